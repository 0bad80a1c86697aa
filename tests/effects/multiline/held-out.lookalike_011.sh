# source: bash(1) line continuation; docker-build(1)
docker build \
  -t app:dev \
  -f Dockerfile.dev \
  .
