# source: own (a newline inside double quotes is data)
echo "first line
second line: rm -rf /"
