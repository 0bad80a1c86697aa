# source: yonatangross/orchestkit#3015 (quoted heredoc bodies are inert) https://github.com/yonatangross/orchestkit/pull/3015
cat <<'EOF'
$(rm -rf ~)
`reboot`
${IFS}
EOF
