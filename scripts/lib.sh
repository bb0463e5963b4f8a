# shellcheck shell=bash
# Shared helpers for the stack scripts. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${STACK_DIR:-$ROOT/.stack}"
LOG_DIR="$STACK_DIR/logs"
PID_DIR="$STACK_DIR/pids"
mkdir -p "$LOG_DIR" "$PID_DIR"

say() { if [[ -t 1 ]]; then printf '\033[1m==>\033[0m %s\n' "$*"; else printf '==> %s\n' "$*"; fi; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# wait_for NAME TIMEOUT_S COMMAND...: polls COMMAND until it succeeds.
wait_for() {
  local name="$1" timeout="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "error: $name did not become healthy within ${timeout}s" >&2
      return 1
    fi
    sleep 0.3
  done
}

pid_alive() { [[ -f "$PID_DIR/$1.pid" ]] && kill -0 "$(cat "$PID_DIR/$1.pid")" 2>/dev/null; }

show_log_tail() {
  echo "---- last lines of $LOG_DIR/$1.log ----" >&2
  tail -n 30 "$LOG_DIR/$1.log" >&2 || true
}

# http_ok URL: true when the URL answers 2xx.
http_ok() { curl -fs -m 2 -o /dev/null "$1"; }

# read_default_ports: the stack's default ports as DEFAULT_*_PORT, from config/ports.json (the
# file the services and the tools read too).
read_default_ports() {
  local ports
  ports="$(node -p 'const p = require(process.argv[1]);
    [p.postgres, p.temporal, p.temporalUi, p.expenzy, p.api, p.workerMetrics, p.workerSdkMetrics,
      p.worker2Metrics, p.worker2SdkMetrics].map((port) => {
      if (!Number.isInteger(port)) throw new Error(`a port of ${process.argv[1]} is missing`);
      return port;
    }).join(" ")' "$ROOT/config/ports.json")" || die "could not read $ROOT/config/ports.json"
  read -r DEFAULT_POSTGRES_PORT DEFAULT_TEMPORAL_PORT DEFAULT_TEMPORAL_UI_PORT DEFAULT_EXPENZY_PORT \
    DEFAULT_API_PORT DEFAULT_WORKER_METRICS_PORT DEFAULT_WORKER_SDK_METRICS_PORT \
    DEFAULT_WORKER2_METRICS_PORT DEFAULT_WORKER2_SDK_METRICS_PORT <<<"$ports"
}
