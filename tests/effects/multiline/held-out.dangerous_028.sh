# source: bash(1) Here Documents (a quoted delimiter: the body is not expanded); xargs(1)
xargs cat <<'EOF'
/home/dev/.aws/credentials
EOF
