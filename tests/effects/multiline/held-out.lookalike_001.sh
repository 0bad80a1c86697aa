# source: bash(1) cd, Here Documents; bash startup files (~/.bashrc) https://www.gnu.org/software/bash/manual/bash.html
cd src
echo 'x = 1' >> config.py
