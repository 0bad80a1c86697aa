# source: redis-cli reads commands from stdin; FLUSHALL https://redis.io/docs/latest/commands/flushall/
redis-cli <<'EOF2'
FLUSHALL
EOF2
