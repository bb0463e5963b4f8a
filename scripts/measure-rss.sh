#!/usr/bin/env bash
# Idle memory of the worker and the API, from the sources under tsx and from the build (dist/):
# restarts both on a running stack (make up) in each runtime, lets them idle IDLE_SECONDS, then
# prints the resident set size of each service's process group (node, and tsx's esbuild helper).
#   bash scripts/measure-rss.sh            (the stack's own settings: STACK_DIR, ports, …)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT" || exit 1
IDLE_SECONDS="${IDLE_SECONDS:-30}"

# group_rss_mib PGID: the summed RSS of the process group, in MiB.
group_rss_mib() {
  local pid total=0 rss
  for pid in $(ps -o pid= -g "$1"); do
    rss="$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)"
    total=$((total + ${rss:-0}))
  done
  echo $((total / 1024))
}

[[ -f dist/workflow-bundle.js ]] || npm run build
printf '%-8s %-7s %s\n' RUNTIME SERVICE "IDLE RSS (MiB)"
for runtime in tsx dist; do
  for service in worker api; do STACK_RUNTIME=$runtime bash scripts/stack.sh restart "$service" >/dev/null; done
  sleep "$IDLE_SECONDS"
  for service in worker api; do
    printf '%-8s %-7s %s\n' "$runtime" "$service" "$(group_rss_mib "$(cat "$PID_DIR/$service.pid")")"
  done
done
