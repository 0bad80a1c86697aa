# source: bash(1) Here Documents; systemd.service(5) user units in ~/.config/systemd/user https://www.freedesktop.org/software/systemd/man/latest/systemd.unit.html
cat > notes.md <<'EOF2'
# Notes
EOF2
