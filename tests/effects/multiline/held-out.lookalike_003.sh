# source: bash(1) Shell Functions https://www.gnu.org/software/bash/manual/bash.html#Shell-Functions
f() {
  echo "$1"
}
f hi
