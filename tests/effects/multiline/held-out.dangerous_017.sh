# source: mysql(1) batch mode from stdin https://dev.mysql.com/doc/refman/8.0/en/mysql-batch-commands.html
mysql <<'EOF2'
DROP DATABASE app;
EOF2
