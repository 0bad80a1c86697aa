# source: own (hidden input into a stateful client via heredoc)
psql -d prod <<'SQL'
DROP TABLE users;
SQL
