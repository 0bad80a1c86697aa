# source: PrimeIntellect-ai/prime-agent#2384 review (cat <<EOF | sh) https://github.com/PrimeIntellect-ai/prime-agent/pull/2384
cat <<'EOF' | bash
git reset --hard origin/main
git clean -fdx
EOF
