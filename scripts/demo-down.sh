#!/usr/bin/env bash
# `make demo-down`: destroy the local stack (when the CLI and its state exist), stop the
# sandbox and remove its state. Safe to run any number of times.
set -euo pipefail
source "$(dirname "$0")/demo_common.sh"
cd "$ROOT"

PULUMI="$(find_pulumi)"
if [ -n "$PULUMI" ] && [ -d "$ROOT/.pulumi/.pulumi/stacks" ] \
    && "$PULUMI" stack select "$STACK" --non-interactive >/dev/null 2>&1; then
    step "pulumi destroy --stack $STACK"
    # Destroy deletes the Segment resources and deactivates the managed token in the sandbox.
    start_sandbox
    "$PULUMI" destroy --stack "$STACK" --yes --skip-preview --non-interactive
elif [ -d "$ROOT/.pulumi" ] && [ -z "$PULUMI" ]; then
    echo "note: no Pulumi CLI; the state in .pulumi/ is left as is"
fi

step "stop the sandbox"
stop_sandbox
rm -rf "$STATE_DIR"
echo "removed $STATE_DIR"
