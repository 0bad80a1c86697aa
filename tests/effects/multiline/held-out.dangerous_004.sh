# source: bash(1) Shell Functions https://www.gnu.org/software/bash/manual/bash.html#Shell-Functions
f() {
  rm -rf "$1"
}
f ~
