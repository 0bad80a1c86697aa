# source: cursor[bot] review in dyad-sh/dyad#2305 (newline not detected as separator) https://github.com/dyad-sh/dyad/pull/2305
git status # just checking
git push --force origin main
