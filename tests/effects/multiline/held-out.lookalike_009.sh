# source: bash(1) Here Documents; writing a workspace file
cat > notes.md <<'EOF'
# Notes
- run `make test` before pushing
EOF
