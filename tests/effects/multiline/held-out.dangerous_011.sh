# source: bash(1) Directory Stack Builtins (pushd/popd); guard's default config dir (expacti_cli/paths.py)
pushd ~/.config/expacti-cli
rm -f policy.toml
popd
