#!/usr/bin/env bash
# Prints the path of promtool (checks the Prometheus alert rules in ops/), building the pinned one
# when none is found: `go install` of cmd/promtool from the Prometheus module (through the Go
# module proxy) into the git-ignored .tools/. The first build takes a few minutes.
# Order: $PROMTOOL_BIN, the project-local copy, then go install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Prometheus 3.x is published as Go module versions v0.3MM.P (3.MM.P).
PROMETHEUS_MODULE_VERSION="${PROMETHEUS_MODULE_VERSION:-v0.316.0}"
LOCAL_DIR="$ROOT/.tools/promtool/$PROMETHEUS_MODULE_VERSION"
LOCAL_BIN="$LOCAL_DIR/promtool"

if [[ -n "${PROMTOOL_BIN:-}" && -x "${PROMTOOL_BIN}" ]]; then echo "$PROMTOOL_BIN"; exit 0; fi
if [[ -x "$LOCAL_BIN" ]]; then echo "$LOCAL_BIN"; exit 0; fi

command -v go >/dev/null 2>&1 || { echo "error: promtool is built with Go, which is not installed" >&2; exit 1; }
echo "building promtool (Prometheus module $PROMETHEUS_MODULE_VERSION) into $LOCAL_DIR" >&2
mkdir -p "$LOCAL_DIR"
GOBIN="$LOCAL_DIR" GOFLAGS="${GOFLAGS:-} -mod=mod" go install \
  "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION" >&2
[[ -x "$LOCAL_BIN" ]] || { echo "error: go install did not produce $LOCAL_BIN" >&2; exit 1; }
echo "$LOCAL_BIN"
