# source: bash(1) Here Documents; git-commit(1) -F -
git commit -F - <<'EOF'
fix: handle empty input

The parser returned None for an empty file.
EOF
