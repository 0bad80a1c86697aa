# source: PrimeIntellect-ai/prime-agent#2384 review (heredoc bodies feeding an interpreter stay live) https://github.com/PrimeIntellect-ai/prime-agent/pull/2384
sh <<'EOF'
rm -rf ~/project
EOF
