# Shared by scripts/demo.sh and scripts/demo-down.sh (sourced, not run): paths, the sandbox
# process and the Pulumi CLI lookup. Everything the demo creates lives inside the project.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK=local
STACK_FILE="$ROOT/stacks/Pulumi.$STACK.yaml"
SANDBOX_HOST=127.0.0.1
# The sandbox listens on the port the local stack's URLs name (sandbox/port.py); setting
# SANDBOX_PORT (`SANDBOX_PORT=9000 make demo`) moves the sandbox and those URLs together.
STACK_PORT="$(sed -n 's|^ *segment:url: *http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$STACK_FILE")"
SANDBOX_PORT="${SANDBOX_PORT:-${STACK_PORT:-8787}}"
SANDBOX_URL="http://$SANDBOX_HOST:$SANDBOX_PORT"
STATE_DIR="$ROOT/.sandbox"
PID_FILE="$STATE_DIR/sandbox.pid"
LOG_FILE="$STATE_DIR/sandbox.log"
PY="$ROOT/venv/bin/python"
PULUMI_VERSION="$(tr -d '[:space:]' < "$ROOT/.pulumi-version")"
PULUMI_INSTALL_ROOT="$ROOT/.pulumi-cli"
# Where `make toolchain` puts the CLI (overridable so tests can hide it).
TOOLCHAIN_BIN="${SEGMENT_PENDULA_TOOLCHAIN_BIN:-$ROOT/.toolchain/bin}"

# A project-local file backend: the demo never touches the user's Pulumi login.
export PULUMI_BACKEND_URL="file://$ROOT/.pulumi"
# A fixed throwaway passphrase, for the local sandbox stack only (its secrets open nothing).
export PULUMI_CONFIG_PASSPHRASE="segment-pendula-local-sandbox-only"
export PULUMI_SKIP_UPDATE_CHECK=true

DEMO_STARTED=$SECONDS
# Each step says how long the run has taken so far, so a slow step (the first pip install, a
# rate-limited pulumi up) reads as moving rather than stuck.
step() { printf '\n==> %s  (%d s so far)\n' "$*" "$((SECONDS - DEMO_STARTED))"; }
die() { printf 'error: %s\n' "$*" >&2; exit "${2:-1}"; }

# The pulumi executable to use (PATH first, then the one `make toolchain` built, then the
# project-local install of an earlier demo), or nothing.
find_pulumi() {
    if command -v pulumi >/dev/null 2>&1; then
        command -v pulumi
    elif [ -x "$TOOLCHAIN_BIN/pulumi" ]; then
        printf '%s\n' "$TOOLCHAIN_BIN/pulumi"
    elif [ -x "$PULUMI_INSTALL_ROOT/bin/pulumi" ]; then
        printf '%s\n' "$PULUMI_INSTALL_ROOT/bin/pulumi"
    fi
}

# The Python language host the CLI needs to run __main__.py: shipped next to `pulumi` by
# Pulumi's installers, found on PATH otherwise. `make toolchain` cannot build it here (its Go
# module is not served by the proxy; docs/toolchain.md).
find_language_host() {
    local dir
    dir="$(dirname "$1")"
    if [ -x "$dir/pulumi-language-python" ]; then
        printf '%s\n' "$dir/pulumi-language-python"
    elif command -v pulumi-language-python >/dev/null 2>&1; then
        command -v pulumi-language-python
    fi
}

sandbox_answers() {
    "$PY" - "$SANDBOX_URL" <<'PYEOF' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/_sandbox/requests?since=0", timeout=1).read()
PYEOF
}

# The pid in the pid file, if that process is alive and is our sandbox (pids get reused).
sandbox_pid() {
    [ -f "$PID_FILE" ] || return 1
    local pid
    pid="$(cat "$PID_FILE")"
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- '-m sandbox' || return 1
    printf '%s\n' "$pid"
}

start_sandbox() {
    if sandbox_pid >/dev/null && sandbox_answers; then
        echo "sandbox already running on $SANDBOX_URL (pid $(sandbox_pid))"
        return 0
    fi
    if sandbox_answers; then
        die "something else answers on $SANDBOX_URL; stop it (or run make demo-down) first"
    fi
    mkdir -p "$STATE_DIR"
    "$PY" -m sandbox --seed "$STACK_FILE" --db "$STATE_DIR/sandbox.sqlite3" \
        --host "$SANDBOX_HOST" --port "$SANDBOX_PORT" >"$LOG_FILE" 2>&1 &
    echo $! >"$PID_FILE"
    for _ in $(seq 1 100); do
        if sandbox_answers; then
            grep '^moved ' "$LOG_FILE" || true
            sed -n '/^seeded/,/^INFO/p' "$LOG_FILE" | grep -v '^INFO' || true
            echo "sandbox running on $SANDBOX_URL (pid $(cat "$PID_FILE"), log $LOG_FILE)"
            return 0
        fi
        if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
            cat "$LOG_FILE" >&2
            rm -f "$PID_FILE"
            die "the sandbox did not start (log above)"
        fi
        sleep 0.1
    done
    stop_sandbox
    die "the sandbox did not answer on $SANDBOX_URL within 10 s (log: $LOG_FILE)"
}

stop_sandbox() {
    local pid
    if pid="$(sandbox_pid)"; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        echo "sandbox stopped (pid $pid)"
    fi
    rm -f "$PID_FILE"
}
