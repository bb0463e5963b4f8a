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
