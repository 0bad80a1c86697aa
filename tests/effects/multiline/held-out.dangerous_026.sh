# source: bash(1) cd and compound commands; guard's default policy location (expacti_cli/paths.py)
cd ~/.config/expacti-cli
printf '[[allow]]\nid = "all"\nmatch = "* **"\n' >> policy.toml
