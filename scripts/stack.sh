#!/usr/bin/env bash
# The whole stack as background processes of this machine, for when there is no Docker.
#
#   stack.sh up                  start, in order, every service that is not running, wait until each
#                                is healthy, print the URLs; on a failure stop what this run started
#   stack.sh down                stop what was started (whole process groups: SIGTERM, then SIGKILL
#                                after STACK_STOP_GRACE seconds) and PostgreSQL
#   stack.sh status              one line per service; exit status 1 when one is not healthy
#   stack.sh start|stop|restart SERVICE
#   stack.sh kill SERVICE        SIGKILL, nothing else (for chaos tests)
#   stack.sh logs [SERVICE]      follow the logs (print their ends when not on a terminal)
#   stack.sh urls
#   stack.sh env                 `export` lines of the addresses above, for tools run alongside:
#                                eval "$(scripts/stack.sh env)"
#
# Services, in start order: postgres temporal migrate expenzy worker api (migrate is one-shot).
# worker2, a second worker process on the same task queue (as production runs several), starts
# only on request: `start worker2`, or named in STACK_SERVICES. Its metrics are on
# WORKER2_METRICS_PORT and the SDK's on WORKER2_SDK_METRICS_PORT; its other settings come, like
# every service's, from the environment of the stack.sh call that starts it. Once started, down
# and status include it.
#   STACK_SERVICES="postgres temporal expenzy"  up/down/status only these
#   HOLVI_DATABASE_URL=…                         the caller provides the databases (also set
#                                                HOLVI_MIGRATION_DATABASE_URL, EXPENZY_DATABASE_URL)
#   EXPENZY_API_BASE_URL=https://…               an external partner: the simulator is left out, and
#                                                `up` checks the partner with a call that changes
#                                                nothing (tools/partner-check.ts) before the worker starts
#   PGPORT, TEMPORAL_ADDRESS, STACK_TEMPORAL_UI_PORT, EXPENZY_PORT, HOLVI_API_PORT,
#   WORKER_METRICS_PORT, WORKER_SDK_METRICS_PORT,
#   WORKER2_METRICS_PORT, WORKER2_SDK_METRICS_PORT
#                                                move a service (the services read the same names);
#                                                the defaults are config/ports.json's
#   STACK_TEMPORAL_TRANSFER_READS_PER_SECOND=20  the dev server's own throttle of workflow steps
#                                                (default here 1000; see service_command)
#   STACK_RUNTIME=dist                           run migrate, simulator, worker and API from the
#                                                production build (npm run build) instead of tsx
# Every other setting (EXPENZY_FAILURE_RATE, RECONCILE_INTERVAL, LOG_LEVEL, …) reaches the services
# by inheritance from the caller's environment. Logs: .stack/logs/NAME.log, pids: .stack/pids/NAME.pid.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALL_SERVICES=(postgres temporal migrate expenzy worker api)
ON_REQUEST_SERVICES=(worker2)
START_ORDER=(postgres temporal migrate expenzy worker worker2 api)
STOP_GRACE="${STACK_STOP_GRACE:-10}"
HEALTH_TIMEOUT="${STACK_HEALTH_TIMEOUT:-60}"
MIGRATE_TIMEOUT="${STACK_MIGRATE_TIMEOUT:-120}"
TEMPORAL_DB="$STACK_DIR/temporal/temporal.db"
# Reads of the dev server's transfer queue per second (its default, 20, throttles the sync: see service_command).
TEMPORAL_TRANSFER_READS_PER_SECOND="${STACK_TEMPORAL_TRANSFER_READS_PER_SECOND:-1000}"
STARTED=() # what this invocation started, so that a failure can stop exactly that

# The addresses the services use to find one another, derived once so that moving a port moves
# both the service and whoever calls it. Values equal to the services' own defaults.
wire_environment() {
  read_default_ports
  export PGPORT="${PGPORT:-$DEFAULT_POSTGRES_PORT}"
  if [[ -n "${HOLVI_DATABASE_URL:-}" ]]; then
    EXTERNAL_DB=1
  else
    EXTERNAL_DB=""
    export HOLVI_DATABASE_URL="postgres://holvi_app:holvi_app@127.0.0.1:$PGPORT/holvi"
    export HOLVI_MIGRATION_DATABASE_URL="${HOLVI_MIGRATION_DATABASE_URL:-postgres://holvi_owner:holvi_owner@127.0.0.1:$PGPORT/holvi}"
    export EXPENZY_DATABASE_URL="${EXPENZY_DATABASE_URL:-postgres://expenzy:expenzy@127.0.0.1:$PGPORT/expenzy}"
  fi
  export TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:$DEFAULT_TEMPORAL_PORT}"
  TEMPORAL_UI_PORT="${STACK_TEMPORAL_UI_PORT:-$DEFAULT_TEMPORAL_UI_PORT}"
  local expenzy_port="${EXPENZY_PORT:-$DEFAULT_EXPENZY_PORT}" api_port="${HOLVI_API_PORT:-$DEFAULT_API_PORT}"
  local simulator_url="http://127.0.0.1:$expenzy_port"
  export EXPENZY_API_BASE_URL="${EXPENZY_API_BASE_URL:-$simulator_url}"
  # Any other URL than the simulator's is a partner that this script neither starts nor stops.
  case "${EXPENZY_API_BASE_URL%/}" in
    "$simulator_url" | "http://localhost:$expenzy_port") EXTERNAL_PARTNER="" ;;
    *) EXTERNAL_PARTNER=1 ;;
  esac
  export HOLVI_API_BASE_URL="${HOLVI_API_BASE_URL:-http://127.0.0.1:$api_port}"
  API_URL="http://127.0.0.1:$api_port"
  WORKER_URL="http://127.0.0.1:${WORKER_METRICS_PORT:-$DEFAULT_WORKER_METRICS_PORT}"
  WORKER2_METRICS_PORT="${WORKER2_METRICS_PORT:-$DEFAULT_WORKER2_METRICS_PORT}"
  WORKER2_SDK_METRICS_PORT="${WORKER2_SDK_METRICS_PORT:-$DEFAULT_WORKER2_SDK_METRICS_PORT}"
  WORKER2_URL="http://127.0.0.1:$WORKER2_METRICS_PORT"
}

# SERVICES: STACK_SERVICES (or all) in start order, without postgres when the caller provides it.
# A service started on request (worker2) is in it when named, or, without STACK_SERVICES, for
# every command but up once it was started (its pid file exists), so that down stops it and
# status shows it.
select_services() {
  local wanted=" ${STACK_SERVICES:-${ALL_SERVICES[*]}} " command="${1:-}" name
  SERVICES=()
  for name in "${START_ORDER[@]}"; do
    if [[ "$wanted" != *" $name "* ]]; then
      [[ " ${ON_REQUEST_SERVICES[*]} " == *" $name "* ]] || continue
      if [[ -n "${STACK_SERVICES:-}" || "$command" == up || ! -f "$PID_DIR/$name.pid" ]]; then continue; fi
    fi
    [[ "$name" == postgres && -n "$EXTERNAL_DB" ]] && continue
    # An external partner takes the simulator's place: checked, never started or stopped (`down`
    # still stops a simulator that an earlier `up` started).
    [[ "$name" == expenzy && -n "$EXTERNAL_PARTNER" && "${COMMAND:-}" != down ]] && name=partner
    SERVICES+=("$name")
  done
}

known_service() {
    [[ " ${START_ORDER[*]} " == *" ${1:-} "* ]] || die "unknown service '${1:-}' (one of: ${START_ORDER[*]})"
  [[ "$1" != expenzy || -z "$EXTERNAL_PARTNER" || "${COMMAND:-}" == stop || "${COMMAND:-}" == kill ]] ||
    die "EXPENZY_API_BASE_URL=$EXPENZY_API_BASE_URL is an external partner: there is no simulator to $COMMAND"
}

# The services run TypeScript through tsx from node_modules: without it, say what to run (exit 2).
require_installed() {
  [[ -f "$ROOT/node_modules/.package-lock.json" && -d "$ROOT/node_modules/tsx" ]] && return 0
  echo "error: node_modules is not installed: run 'make setup' (or 'bash scripts/install.sh') first" >&2
  exit 2
}

# check_partner: the external partner answers the list call (it changes nothing at the partner).
check_partner() {
  say "checking the partner at $EXPENZY_API_BASE_URL (list of notifying payouts)"
  node_run "$(entrypoint partner)"
  if ! (cd "$ROOT" && timeout 60 "${NODE_RUN[@]}"); then
    echo "error: the partner at $EXPENZY_API_BASE_URL did not answer (EXPENZY_API_BASE_URL, EXPENZY_API_KEY)" >&2
    return 1
  fi
}

# TEMPORAL_CLI: the temporal binary, installed on first use.
find_temporal_cli() {
  [[ -n "${TEMPORAL_CLI:-}" ]] || TEMPORAL_CLI="$(bash "$ROOT/scripts/install-temporal.sh")"
}

# The file a service runs; also what identifies its process in /proc/PID/cmdline.
# STACK_RUNTIME=dist runs the production build (npm run build) instead of the sources under tsx.
entrypoint() {
  local file
  case "$1" in
    temporal) echo "start-dev"; return ;;
    partner) file="tools/partner-check.ts" ;;
    migrate) file="src/db/migrate-cli.ts" ;;
    expenzy) file="expenzy/server.ts" ;;
    worker | worker2) file="src/worker/main.ts" ;;
    api) file="src/api/server.ts" ;;
  esac
  if [[ "${STACK_RUNTIME:-tsx}" == dist ]]; then echo "dist/${file%.ts}.js"; else echo "$file"; fi
}

# NODE_RUN FILE: node with tsx for TypeScript, plain node for the build.
node_run() {
  if [[ "$1" == *.ts ]]; then NODE_RUN=(node --import tsx "$1"); else NODE_RUN=(node "$1"); fi
}

# CMD: the command line of a long-running service.
service_command() {
  case "$1" in
    temporal)
      mkdir -p "$(dirname "$TEMPORAL_DB")"
      find_temporal_cli
      # The dev server has one history shard, whose transfer queue is read at most 20 times a
      # second by default: every step of a workflow (a workflow task after an activity or a
      # signal) waits for such a read, so a busy sync would take at most 20 steps a second.
      CMD=("$TEMPORAL_CLI" server start-dev --ip 127.0.0.1 --port "${TEMPORAL_ADDRESS##*:}"
        --ui-port "$TEMPORAL_UI_PORT" --db-filename "$TEMPORAL_DB" --namespace default --log-level warn
        --dynamic-config-value "history.transferProcessorMaxPollRPS=$TEMPORAL_TRANSFER_READS_PER_SECOND")
      ;;
    expenzy) node_run "$(entrypoint expenzy)"; CMD=(env "EXPENZY_ADMIN_ENABLED=${EXPENZY_ADMIN_ENABLED:-1}" "${NODE_RUN[@]}") ;;
    # The owner role is the migrate step's alone: the API and the worker never see it.
    worker | api) node_run "$(entrypoint "$1")"; CMD=(env -u HOLVI_MIGRATION_DATABASE_URL "${NODE_RUN[@]}") ;;
    worker2)
      node_run "$(entrypoint worker2)"
      CMD=(env -u HOLVI_MIGRATION_DATABASE_URL "WORKER_METRICS_PORT=$WORKER2_METRICS_PORT"
        "WORKER_SDK_METRICS_PORT=$WORKER2_SDK_METRICS_PORT" "${NODE_RUN[@]}")
      ;;
  esac
}

healthy() {
  case "$1" in
    postgres) bash "$ROOT/scripts/postgres.sh" status >/dev/null 2>&1 ;;
    temporal) find_temporal_cli && "$TEMPORAL_CLI" operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 ;;
    migrate) return 1 ;; # one-shot: run on every start
    expenzy) http_ok "$EXPENZY_API_BASE_URL/healthz" ;;
    worker) http_ok "$WORKER_URL/healthz" ;;
    worker2) http_ok "$WORKER2_URL/healthz" ;;
    api) http_ok "$API_URL/readyz" ;;
  esac
}

# running_pid NAME: prints the pid recorded for NAME when that process still runs NAME's command
# (a stale pid file, after a reboot, may name someone else's process).
running_pid() {
  if [[ "$1" == postgres ]]; then
    local pid_file="$STACK_DIR/postgres/data/postmaster.pid" marker="postgres"
  else
    local pid_file="$PID_DIR/$1.pid" marker
    marker="$(entrypoint "$1")"
    marker="${marker#dist/}" # the same service from the sources or from the build
    marker="${marker%.*}"
  fi
  [[ -s "$pid_file" ]] || return 1
  local pid
  pid="$(head -n1 "$pid_file")"
  [[ "$pid" =~ ^[0-9]+$ ]] && [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$marker" || return 1
  echo "$pid"
}

# launch NAME COMMAND...: COMMAND in a session of its own (so that its children can be signalled
# with it), detached from this shell, output appended to the service's log.
launch() {
  local name="$1"
  shift
  local pid_file="$PID_DIR/$name.pid" log="$LOG_DIR/$name.log"
  rm -f "$pid_file"
  printf '\n---- %s stack.sh starts %s: %s\n' "$(date -u '+%F %T')" "$name" "$*" >>"$log"
  # The outer subshell exits at once: nothing of this script lingers holding our stdout.
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner bash
  (
    cd "$ROOT" || exit 1
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pid_file" "$@" >>"$log" 2>&1 </dev/null &
  )
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s "$pid_file" ]] && return 0
    sleep 0.1
  done
  echo "error: $name did not start" >&2
  return 1
}

# wait_healthy NAME: until the health check passes; fails early when the process exits.
wait_healthy() {
  local name="$1" deadline=$((SECONDS + HEALTH_TIMEOUT))
  until healthy "$name"; do
    if ! running_pid "$name" >/dev/null; then
      echo "error: $name exited" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "error: $name did not become healthy within ${HEALTH_TIMEOUT}s" >&2
      return 1
    fi
    sleep 0.3
  done
}

run_migrations() {
  local file
  file="$(entrypoint migrate)"
  [[ -f "$ROOT/$file" ]] || { echo "error: $file does not exist${STACK_RUNTIME:+ (npm run build)}" >&2; return 1; }
  say "migrating Holvi's database"
  printf '\n---- %s stack.sh runs migrations\n' "$(date -u '+%F %T')" >>"$LOG_DIR/migrate.log"
  node_run "$file"
  (cd "$ROOT" && timeout "$MIGRATE_TIMEOUT" "${NODE_RUN[@]}") >>"$LOG_DIR/migrate.log" 2>&1
}

start_postgres() {
  healthy postgres && { echo "postgres: already running"; return 0; }
  STARTED+=(postgres)
  bash "$ROOT/scripts/postgres.sh" start
}

# start_service NAME: leaves a healthy service alone, waits for one that is starting, launches the rest.
start_service() {
  local name="$1"
  case "$name" in
    postgres) start_postgres; return ;;
    migrate) run_migrations; return ;;
    partner) check_partner; return ;;
  esac
  if healthy "$name"; then
    echo "$name: already running"
    return 0
  fi
  if ! running_pid "$name" >/dev/null; then
    [[ "$name" == temporal || -f "$ROOT/$(entrypoint "$name")" ]] ||
      { echo "error: $(entrypoint "$name") does not exist" >&2; return 1; }
    say "starting $name"
    service_command "$name"
    STARTED+=("$name")
    launch "$name" "${CMD[@]}" || return 1
  fi
  wait_healthy "$name"
}

# abort NAME [WHAT]: reports NAME's failure with the end of its log, stops what this run started,
# exits 1.
abort() {
  trap - INT TERM
  echo "error: $1 ${2:-failed to start}" >&2
  [[ -f "$LOG_DIR/$1.log" ]] && show_log_tail "$1"
  local i
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do stop_service "${STARTED[i]}"; done
  exit 1
}

start_services() {
  local name
  for name in "$@"; do
    trap 'abort "$name" "was starting when stack.sh was interrupted"' INT TERM
    start_service "$name" || abort "$name"
  done
  trap - INT TERM
}

# group_alive PGID: a process of the group still runs. Zombies do not count: an exited service
# waits for init to reap it, which some inits (and containers without one) are slow to do.
group_alive() {
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } |
    awk -v group="$1" '{ sub(/^.*\) /, ""); if ($3 == group && $1 != "Z") alive = 1 } END { exit !alive }'
}

# wait_gone PID SECONDS: until the process group PID is empty.
wait_gone() {
  local deadline=$((SECONDS + $2))
  while group_alive "$1"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

stop_service() {
  local name="$1" pid
  case "$name" in
    postgres) bash "$ROOT/scripts/postgres.sh" stop; return ;;
    migrate | partner) return 0 ;;
  esac
  if pid="$(running_pid "$name")"; then
    say "stopping $name (pid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || true
    if ! wait_gone "$pid" "$STOP_GRACE"; then
      echo "$name still running after ${STOP_GRACE}s: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || true
      wait_gone "$pid" 5 || echo "warning: process group $pid of $name survived SIGKILL" >&2
    fi
  fi
  rm -f "$PID_DIR/$name.pid"
}

# kill_service NAME: SIGKILL and nothing else; the pid file stays, so status says "dead".
kill_service() {
  local name="$1" pid
  [[ "$name" != migrate ]] || die "migrate is one-shot; nothing to kill"
  pid="$(running_pid "$name")" || die "$name is not running (or was not started by stack.sh)"
  say "SIGKILL $name (pid $pid)"
  if [[ "$name" == postgres ]]; then
    # Its backends are sessions of their own; without the postmaster they would linger on.
    # shellcheck disable=SC2046 # one pid per word
    kill -KILL "$pid" $(ps -o pid= --ppid "$pid") 2>/dev/null || true
  else
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
}

cmd_up() {
  start_services "${SERVICES[@]}"
  echo
  print_urls
}

cmd_down() {
  local i
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do stop_service "${SERVICES[i]}"; done
}

cmd_restart() {
  stop_service "$1"
  start_services "$1"
}

service_state() {
  local name="$1"
  if [[ "$name" == migrate ]]; then echo "one-shot"; return; fi
  if [[ "$name" == partner ]]; then
    if check_partner >/dev/null 2>&1; then echo "external, answers"; else echo "external, NOT ANSWERING"; fi
    return
  fi
  local pid_file="$PID_DIR/$name.pid"
  [[ "$name" == postgres ]] && pid_file="$STACK_DIR/postgres/data/postmaster.pid"
  if healthy "$name"; then
    if running_pid "$name" >/dev/null; then echo "healthy"; else echo "healthy (not started by stack.sh)"; fi
  elif running_pid "$name" >/dev/null; then
    echo "UNHEALTHY"
  elif [[ -f "$pid_file" ]]; then
    echo "DEAD"
  else
    echo "stopped"
  fi
}

cmd_status() {
  local name state pid all_ok=0
  printf '%-9s %-34s %s\n' SERVICE STATE PID
  for name in "${SERVICES[@]}"; do
    state="$(service_state "$name")"
    pid="$(running_pid "$name" 2>/dev/null || echo -)"
    printf '%-9s %-34s %s\n' "$name" "$state" "$pid"
    [[ "$state" == healthy* || "$state" == one-shot || "$state" == "external, answers" ]] || all_ok=1
  done
  return "$all_ok"
}

cmd_logs() {
  local files=()
  if [[ -n "${1:-}" ]]; then
    known_service "$1"
    files=("$LOG_DIR/$1.log")
  else
    files=("$LOG_DIR"/*.log)
    [[ -f "${files[0]}" ]] || die "no logs yet in $LOG_DIR"
  fi
  if [[ -t 1 ]]; then tail -n 50 -F "${files[@]}"; else tail -n 100 "${files[@]}"; fi
}

print_urls() {
  local name
  for name in "${SERVICES[@]}"; do
    case "$name" in
      postgres) echo "PostgreSQL        127.0.0.1:$PGPORT (databases holvi, expenzy)" ;;
      temporal) echo "Temporal          $TEMPORAL_ADDRESS, Web UI http://127.0.0.1:$TEMPORAL_UI_PORT" ;;
      expenzy) echo "Expenzy           $EXPENZY_API_BASE_URL (simulator; admin routes enabled)" ;;
      partner) echo "Expenzy           $EXPENZY_API_BASE_URL (external partner: checked, not started here)" ;;
      worker) echo "Worker metrics    $WORKER_URL/metrics" ;;
      worker2) echo "Worker 2 metrics  $WORKER2_URL/metrics" ;;
      api) echo "Holvi API         $API_URL (GET /payout/count, webhook /expenzy/webhook/)" ;;
    esac
  done
  echo "Logs              $LOG_DIR/NAME.log (make logs service=NAME); stop with make down"
}

print_environment() {
  local name
  for name in HOLVI_DATABASE_URL HOLVI_MIGRATION_DATABASE_URL EXPENZY_DATABASE_URL TEMPORAL_ADDRESS \
    EXPENZY_API_BASE_URL HOLVI_API_BASE_URL; do
    if [[ -n "${!name:-}" ]]; then printf 'export %s=%q\n' "$name" "${!name}"; fi
  done
}

usage() {
  die "usage: stack.sh up|down|status|urls|env|start SERVICE|stop SERVICE|restart SERVICE|kill SERVICE|logs [SERVICE]"
}

COMMAND="${1:-}"
case "$COMMAND" in
  up | start | restart) require_installed ;;
esac
wire_environment
select_services "$COMMAND"
case "$COMMAND" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  urls) print_urls ;;
  env) print_environment ;;
  logs) cmd_logs "${2:-}" ;;
  start) known_service "${2:-}" && start_services "$2" ;;
  stop) known_service "${2:-}" && stop_service "$2" ;;
  restart) known_service "${2:-}" && cmd_restart "$2" ;;
  kill) known_service "${2:-}" && kill_service "$2" ;;
  *) usage ;;
esac
