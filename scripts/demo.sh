#!/usr/bin/env bash
# The main job (`make demo`): deploy the local stack to the sandbox and watch an event arrive.
#
#   1. make setup (venv and test packages);
#   2. find the Pulumi CLI (PATH, then .toolchain/bin from `make toolchain`, else install the
#      pinned version (.pulumi-version) into .pulumi-cli/) and its Python language host;
#   3. start `venv/bin/python -m sandbox --seed stacks/Pulumi.local.yaml` on 127.0.0.1:8787;
#   4. pulumi up --stack local against a project-local file backend (.pulumi/);
#   5. track tests/fixtures/events/signed-up.json with analytics-python and print the Pendula
#      experience it produced.
#
# Re-running is safe. `make demo-down` undoes everything. Without the Pulumi CLI (and no way to
# download it) the script stops before starting anything: it never fakes the deploy.
set -euo pipefail
source "$(dirname "$0")/demo_common.sh"
cd "$ROOT"

INSTALLER_URL="${PULUMI_INSTALLER_URL:-https://get.pulumi.com}"

if [ "${DEMO_SKIP_SETUP:-}" != 1 ]; then
    step "make setup (venv/ and the test packages; a few minutes the first time)"
    make setup
fi

step "Pulumi CLI"
PULUMI="$(find_pulumi)"
if [ -z "$PULUMI" ]; then
    echo "pulumi not found; installing Pulumi $PULUMI_VERSION into $PULUMI_INSTALL_ROOT"
    if ! command -v curl >/dev/null 2>&1 \
        || ! curl -fsSL --connect-timeout 10 "$INSTALLER_URL" \
            | sh -s -- --version "$PULUMI_VERSION" --install-root "$PULUMI_INSTALL_ROOT" --no-edit-path \
        || [ ! -x "$PULUMI_INSTALL_ROOT/bin/pulumi" ]; then
        cat >&2 <<MSG

error: the Pulumi CLI is not installed and could not be downloaded from $INSTALLER_URL.
Install Pulumi $PULUMI_VERSION (https://www.pulumi.com/docs/install/), put \`pulumi\` on PATH
(or in $PULUMI_INSTALL_ROOT/bin), and run \`make demo\` again. \`pulumi up\` also downloads the
terraform-provider plugin and Segment's Terraform provider, so the machine needs internet access.
Nothing was started. Without the CLI, \`make test\` runs the same journey under mocks
(tests/test_journey.py).
MSG
        exit 3
    fi
    PULUMI="$PULUMI_INSTALL_ROOT/bin/pulumi"
fi
echo "using $PULUMI ($("$PULUMI" version))"
if [ -z "$(find_language_host "$PULUMI")" ]; then
    cat >&2 <<MSG

error: $PULUMI has no Python language host (pulumi-language-python) beside it or on PATH,
so it cannot run this project's program (__main__.py). Pulumi's installers ship it; \`make
toolchain\` cannot build it on a machine whose Go module proxy does not serve it, and the
Segment Terraform provider that \`pulumi up\` needs is not served there either
(docs/toolchain.md). Nothing was started. \`make test\` runs the real engine on everything this
machine can reach (tests/engine) and the whole journey under mocks (tests/test_journey.py).
MSG
    exit 3
fi

step "sandbox (Segment Public API + tracking, Pendula)"
started_here=0
sandbox_pid >/dev/null || started_here=1
start_sandbox
# A failure from here on stops a sandbox this run started, so nothing is left behind.
trap 'status=$?; if [ "$status" -ne 0 ] && [ "$started_here" = 1 ]; then stop_sandbox; fi' EXIT

step "pulumi up --stack $STACK (state in .pulumi/, backend $PULUMI_BACKEND_URL)"
mkdir -p "$ROOT/.pulumi"
"$PULUMI" stack select --create --secrets-provider passphrase "$STACK" --non-interactive
echo "Segment (and the sandbox) allow 5 mapping writes a minute and a new mapping costs two, so"
echo "this first up takes about a minute; pulumi prints each resource as it completes."
"$PULUMI" up --stack "$STACK" --yes --skip-preview --non-interactive

step "track a test event with analytics-python"
# PYTHONPATH: the script reads the stack through components.config.stack_config, like every tool.
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" "$PY" "$ROOT/scripts/demo_event.py" --stack-file "$STACK_FILE" \
    --event "$ROOT/tests/fixtures/events/signed-up.json"

trap - EXIT
cat <<DONE

Done. The sandbox keeps running on $SANDBOX_URL:
  venv/bin/python -m components send-test-event --flow upgrade-nudge   # the article's test step
  $PULUMI preview --stack $STACK --diff                                 # expect no changes
  make demo-down                                                        # destroy and stop
DONE
