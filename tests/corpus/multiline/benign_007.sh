# source: own (pull request body with a heredoc, as agents write them)
gh pr create --title "docs: warn about kubectl delete" --body-file - <<'EOF'
## Summary
- explain why `kubectl delete ns prod` needs review
EOF
