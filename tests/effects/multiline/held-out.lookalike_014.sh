# source: bash(1) cd in a subshell
(
  cd frontend
  npm run build
)
