# source: anthropics/claude-code#34106 ("quoted newline followed by a #-prefixed line, which can hide arguments") https://github.com/anthropics/claude-code/issues/34106
git commit -m "wip
# nothing else happens below" && git push --force origin main
