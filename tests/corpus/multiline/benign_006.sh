# source: own (comment lines between harmless commands)
ls -la
# rm -rf / is only a comment
pwd
