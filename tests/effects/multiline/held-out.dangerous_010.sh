# source: bash(1) Parameters, Quoting; ssh-keygen(1) FILES https://man.openbsd.org/ssh-keygen#FILES
D=$HOME/.ssh
cat "$D/id_ed25519"
