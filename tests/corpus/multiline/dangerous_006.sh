# source: own (heredoc script into an interpreter reading stdin)
python3 - <<'EOF'
import shutil
shutil.rmtree('/srv/app')
EOF
