# source: openclaw/openclaw ("heredoc substitution allowlist bypass", see mf-yang/openclaw-cn#288) https://github.com/mf-yang/openclaw-cn/issues/288
cat <<EOF
$(rm -rf ~/project)
EOF
