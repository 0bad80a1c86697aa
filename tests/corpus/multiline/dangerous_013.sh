# source: own (backslash-newline continuation splits the program name: bash joins it back into rm)
r\
m -rf ~/project
