#!/usr/bin/env bash
# `make toolchain`: put the pinned Pulumi CLI and its bundled helper into .toolchain/bin.
#
# Order of preference, printed as it goes:
#   1. a `pulumi` already on PATH at the pinned version (.pulumi-version);
#   2. build it from the Go modules pinned in toolchain/pulumi/go.{mod,sum} (go.sum is the
#      integrity check; Go's module and build caches make a second build take seconds);
#   3. Pulumi's official installer (needs internet);
#   4. a clear error naming what to install.
#
# Also checked and reported (never faked): the pieces the Go module proxy does not serve here
# (docs/toolchain.md): the Python language host and Segment's Terraform provider.
# Idempotent: a stamp records what was built from which pins; nothing is rebuilt when it matches.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLCHAIN_DIR="$ROOT/toolchain"
OUT="$ROOT/.toolchain"
BIN="$OUT/bin"
STAMP="$OUT/stamp"
VERSION="$(tr -d '[:space:]' < "$ROOT/.pulumi-version")"
CLI_MODULE=github.com/pulumi/pulumi/pkg/v3
SDK_MODULE=github.com/pulumi/pulumi/sdk/v3
# The dynamic-provider host launcher, shipped inside the sdk module (python/dist/).
HOST_LAUNCHER=pulumi-resource-pulumi-python
# Probed on every run so the report stays true if the proxy starts serving them.
NOT_SERVED_PROBES=(
    "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3@v$VERSION"
    "github.com/segmentio/terraform-provider-segment@v1.6.1"
)

say() { printf '==> toolchain: %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

mkdir -p "$BIN"

pins_digest() {
    # What a build depends on: the pins, the Go version and this script.
    { cat "$TOOLCHAIN_DIR/pulumi/go.mod" "$TOOLCHAIN_DIR/pulumi/go.sum" "$0"
      go version 2>/dev/null || true; } | sha256sum | cut -d' ' -f1
}

cli_version() { "$1" version 2>/dev/null | tr -d '[:space:]'; }

install_launcher_from_module() {
    local dir
    dir="$(cd "$TOOLCHAIN_DIR/pulumi" && go list -m -f '{{.Dir}}' "$SDK_MODULE")"
    [ -n "$dir" ] && [ -f "$dir/python/dist/$HOST_LAUNCHER" ] \
        || die "$SDK_MODULE has no python/dist/$HOST_LAUNCHER"
    # The module cache strips exec bits, and Pulumi only runs bundled plugins that have them.
    install -m 0755 "$dir/python/dist/$HOST_LAUNCHER" "$BIN/$HOST_LAUNCHER"
}

build_from_go_modules() {
    say "building Pulumi CLI v$VERSION from Go modules ($CLI_MODULE, pinned by toolchain/pulumi/go.sum)"
    say "a fresh machine downloads ~700 modules and compiles for 10-20 min; later runs reuse Go's caches"
    local start=$SECONDS ticker
    # A heartbeat, so a 10-minute compile never looks hung.
    ( while sleep 30; do say "still building ($((SECONDS - start)) s)"; done ) &
    ticker=$!
    trap 'kill "$ticker" 2>/dev/null || true' EXIT
    (
        cd "$TOOLCHAIN_DIR/pulumi"
        # -mod=readonly: go.sum must already hold every hash; nothing is resolved afresh.
        # Flags as Pulumi's own release build: static, os/user in Go, no gRPC tracing.
        CGO_ENABLED=0 go build -mod=readonly -trimpath -tags osusergo,grpcnotrace \
            -ldflags "-s -w -X $SDK_MODULE/go/common/version.Version=v$VERSION" \
            -o "$BIN/pulumi.tmp" "$CLI_MODULE/cmd/pulumi"
    )
    kill "$ticker" 2>/dev/null || true
    trap - EXIT
    mv "$BIN/pulumi.tmp" "$BIN/pulumi"
    install_launcher_from_module
    say "built in $((SECONDS - start)) s"
}

use_cli_on_path() {
    local found version
    found="$(command -v pulumi 2>/dev/null || true)"
    [ -n "$found" ] && [ "$found" != "$BIN/pulumi" ] || return 1
    version="$(cli_version "$found")"
    if [ "$version" != "v$VERSION" ]; then
        say "pulumi on PATH ($found) is $version, not v$VERSION: not used"
        return 1
    fi
    say "using pulumi $version already on PATH ($found)"
    ln -sf "$found" "$BIN/pulumi"
    local launcher
    launcher="$(dirname "$found")/$HOST_LAUNCHER"
    [ -x "$launcher" ] && ln -sf "$launcher" "$BIN/$HOST_LAUNCHER"
    return 0
}

use_official_installer() {
    command -v curl >/dev/null 2>&1 || return 1
    say "trying Pulumi's official installer for v$VERSION"
    local tmp
    tmp="$(mktemp -d)"
    if curl -fsSL --connect-timeout 10 https://get.pulumi.com \
        | sh -s -- --version "$VERSION" --install-root "$tmp" --no-edit-path >/dev/null 2>&1 \
        && [ -x "$tmp/bin/pulumi" ]; then
        cp -a "$tmp/bin/." "$BIN/"
        rm -rf "$tmp"
        return 0
    fi
    rm -rf "$tmp"
    say "the official installer could not be reached"
    return 1
}

report_not_served() {
    command -v go >/dev/null 2>&1 || return 0
    local probe words
    for probe in "${NOT_SERVED_PROBES[@]}"; do
        if words="$(cd "$TOOLCHAIN_DIR/pulumi" && GOFLAGS=-mod=mod go mod download -json "$probe" 2>&1)" \
            && ! grep -q '"Error"' <<<"$words"; then
            say "now served: $probe (docs/toolchain.md says what to build from it)"
        else
            say "not served by the Go module proxy: $probe"
            grep -o '"Error": "[^"]*"' <<<"$words" | head -1 | sed -e 's/reading https:[^ ]*: //' -e 's/^/      /' || true
        fi
    done
}

digest=""
command -v go >/dev/null 2>&1 && digest="$(pins_digest)"
if [ -x "$BIN/pulumi" ] && [ -x "$BIN/$HOST_LAUNCHER" ] && [ -f "$STAMP" ] \
    && [ "$(cat "$STAMP")" = "${digest:-prebuilt}" ] && [ "$(cli_version "$BIN/pulumi")" = "v$VERSION" ]; then
    say "Pulumi CLI v$VERSION is up to date in .toolchain/bin (nothing to rebuild)"
elif use_cli_on_path; then
    echo "${digest:-prebuilt}" > "$STAMP"
elif command -v go >/dev/null 2>&1; then
    build_from_go_modules
    echo "$digest" > "$STAMP"
elif use_official_installer; then
    echo prebuilt > "$STAMP"
else
    die "no Pulumi CLI v$VERSION: install Go >= 1.26 (to build it from toolchain/pulumi) or the Pulumi CLI (https://www.pulumi.com/docs/install/), then run make toolchain again"
fi

[ "$(cli_version "$BIN/pulumi")" = "v$VERSION" ] \
    || die ".toolchain/bin/pulumi reports '$(cli_version "$BIN/pulumi")', expected v$VERSION"
say "ready: $("$BIN/pulumi" version) in .toolchain/bin (use: source scripts/local-env.sh)"
report_not_served
