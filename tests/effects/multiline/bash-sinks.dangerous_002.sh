# source: bash manual, 3.1.2.3 Double Quotes (backslash-newline removed), 3.5.4 Command Substitution (backquotes) https://www.gnu.org/software/bash/manual/bash.html#Double-Quotes
x="`\
rm -rf ~`"
