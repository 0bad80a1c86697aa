# source: own (if/else body spread over lines)
if git diff --quiet; then
  echo clean
else
  git reset --hard
fi
