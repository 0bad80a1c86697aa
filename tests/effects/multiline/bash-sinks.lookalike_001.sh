# source: bash manual, 3.1.2.3 Double Quotes (backslash-newline removed inside double quotes) https://www.gnu.org/software/bash/manual/bash.html#Double-Quotes
echo "first part \
second part"
