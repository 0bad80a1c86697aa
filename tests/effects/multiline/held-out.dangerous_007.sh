# source: psql(1) reads commands from standard input https://www.postgresql.org/docs/current/app-psql.html
psql <<'EOF2'
DROP TABLE users;
EOF2
