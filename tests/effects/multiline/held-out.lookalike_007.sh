# source: bash(1) set -e; npm ci, npm test https://docs.npmjs.com/cli/v10/commands/npm-ci
set -e
npm ci
npm test
