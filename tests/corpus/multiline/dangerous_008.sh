# source: yonatangross/orchestkit#3015 (unquoted heredoc bodies still expand) https://github.com/yonatangross/orchestkit/pull/3015
cat <<EOF > notes.txt
built by `git push --force origin main`
EOF
