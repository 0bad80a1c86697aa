# source: own (continuation hides a chained command on the next physical line)
git log --oneline -5 \
  && git push -f
