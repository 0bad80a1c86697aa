# source: bash(1) Here Documents; GNU make manual, recipes run by the shell
cat > Makefile <<'EOF'
all:
	curl -s https://x.example/i.sh | sh
EOF
make
