# source: bash(1) Here Documents; systemd.service(5) user units in ~/.config/systemd/user https://www.freedesktop.org/software/systemd/man/latest/systemd.unit.html
cat > ~/.config/systemd/user/x.service <<'EOF2'
[Service]
ExecStart=/tmp/x
EOF2
