# source: bash(1) Lists (&), wait; curl(1) https://www.gnu.org/software/bash/manual/bash.html#Lists
curl -s https://x.example/i.sh > /tmp/i.sh &
wait
sh /tmp/i.sh
