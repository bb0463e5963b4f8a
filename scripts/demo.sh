#!/usr/bin/env bash
# make demo: the whole stack, 300 payouts through it, and the report once Holvi has caught up.
# The simulator's faults stay at their defaults (EXPENZY_FAILURE_RATE 0.05 unless the caller
# sets it). The stack is left running; `make down` stops it. Running it again adds 300 payouts.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT" || exit 1

DEMO_PAYOUTS="${DEMO_PAYOUTS:-300}"
REPORT_TIMEOUT="${DEMO_REPORT_TIMEOUT:-120}"

produce_payouts() {
  say "producing $DEMO_PAYOUTS payouts (10 webhooks at once, 0.01 s apart)"
  npx tsx expenzy/producer-cli.ts --attempts "$DEMO_PAYOUTS" --concurrency 10 --sleep 0.01
}

# Polls the report quietly every 2 s until it is consistent; on timeout shows the last one.
wait_for_consistent_report() {
  say "waiting for Holvi to record every payout (at most ${REPORT_TIMEOUT}s)"
  local deadline=$((SECONDS + REPORT_TIMEOUT))
  until npx tsx tools/report/cli.ts >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      npx tsx tools/report/cli.ts || true
      die "the report is still not consistent after ${REPORT_TIMEOUT}s (logs: $LOG_DIR)"
    fi
    sleep 2
  done
}

bash scripts/install.sh
bash scripts/stack.sh up
eval "$(bash scripts/stack.sh env)" # the producer and the report find the stack where it runs
produce_payouts
wait_for_consistent_report
say "report"
npx tsx tools/report/cli.ts
echo
bash scripts/stack.sh urls
