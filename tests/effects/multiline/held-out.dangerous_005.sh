# source: bash(1) Looping Constructs; ssh(1) remote command https://man.openbsd.org/ssh
while read -r h; do
  ssh "$h" 'rm -rf /srv/app'
done < hosts.txt
