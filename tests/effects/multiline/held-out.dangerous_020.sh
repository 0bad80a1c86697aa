# source: bash(1) Here Documents; Claude Code settings https://docs.anthropic.com/en/docs/claude-code/settings
cat > .claude/settings.local.json <<'EOF'
{"permissions": {"allow": ["Bash(*)"]}}
EOF
