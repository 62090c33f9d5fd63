# Source me (bash or zsh):  source scripts/local-env.sh
#
# A project-local Pulumi environment, with nothing shared with your own Pulumi login:
#   - .toolchain/bin (built by `make toolchain`) first on PATH;
#   - PULUMI_HOME in .pulumi/home (plugins, workspace settings);
#   - the file backend in .pulumi/ (state of every stack of this checkout);
#   - a throwaway passphrase for stack secrets (fine for the sandbox stack `local`; export your
#     own PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE first for any other stack:
#     an existing value is kept);
#   - no update checks and no plugin downloads: what runs is what `make toolchain` built.
# Sourcing it twice is harmless.

if [ -n "${BASH_SOURCE:-}" ]; then
    _sp_here="${BASH_SOURCE[0]}"
else
    _sp_here="${(%):-%x}" # zsh
fi
SEGMENT_PENDULA_ROOT="$(cd "$(dirname "$_sp_here")/.." && pwd)"
unset _sp_here
export SEGMENT_PENDULA_ROOT

case ":$PATH:" in
    *":$SEGMENT_PENDULA_ROOT/.toolchain/bin:"*) ;;
    *) export PATH="$SEGMENT_PENDULA_ROOT/.toolchain/bin:$PATH" ;;
esac

export PULUMI_HOME="$SEGMENT_PENDULA_ROOT/.pulumi/home"
export PULUMI_BACKEND_URL="file://$SEGMENT_PENDULA_ROOT/.pulumi"
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    export PULUMI_CONFIG_PASSPHRASE="segment-pendula-local-sandbox-only"
fi
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# A plugin found on PATH must not shadow the pinned ones in .toolchain/bin or PULUMI_HOME.
export PULUMI_IGNORE_AMBIENT_PLUGINS=true
mkdir -p "$PULUMI_HOME"

if ! [ -x "$SEGMENT_PENDULA_ROOT/.toolchain/bin/pulumi" ]; then
    echo "segment-pendula: .toolchain/bin/pulumi is missing; run: make toolchain" >&2
fi
