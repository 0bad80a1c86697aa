# source: bash(1) Looping Constructs https://www.gnu.org/software/bash/manual/bash.html#Looping-Constructs
for f in src/*.py; do
  wc -l "$f"
done
