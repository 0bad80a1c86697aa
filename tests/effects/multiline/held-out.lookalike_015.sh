# source: bash(1) Here Documents; git-commit(1) -F - reads the message from stdin
git commit -F - <<'EOF'
docs: explain the cache format

The index is one NUL-separated string of names.
EOF
