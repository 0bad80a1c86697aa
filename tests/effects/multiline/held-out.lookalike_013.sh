# source: bash(1) if compound; test(1)
if [ -f package.json ]; then
  npm ci
fi
