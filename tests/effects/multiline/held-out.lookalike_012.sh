# source: bash(1) Here Documents; gh pr create --body-file -
gh pr create --title 'docs: setup' --body-file - <<'EOF'
Adds setup notes.
EOF
