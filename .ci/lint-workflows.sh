#!/usr/bin/env bash
# Lints the GitHub workflows offline: schema (check-jsonschema's vendored GitHub schema) and
# security (zizmor, offline so CI needs no network or GitHub token). Any finding fails.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV_BIN="${VENV:-venv}/bin"
shopt -s nullglob
workflows=(.github/workflows/*.yml)
if [ "${#workflows[@]}" -eq 0 ]; then
  echo "lint-workflows: no workflows found under .github/workflows" >&2
  exit 1
fi

"$VENV_BIN/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
"$VENV_BIN/zizmor" --offline --no-progress .github/workflows
