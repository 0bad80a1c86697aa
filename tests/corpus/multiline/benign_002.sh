# source: anthropics/claude-code#34106 (gh pr create --body with a heredoc; ordinary) https://github.com/anthropics/claude-code/issues/34106
git commit -F - <<'EOF'
fix: reject --force in the deploy script

Never run git push --force on main.
EOF
