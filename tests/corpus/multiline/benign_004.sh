# source: own (backslash-newline continuation of a harmless command)
git log --oneline \
  -n 5
