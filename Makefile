# expenzy-sync: the local stack, the payout producer, the checks. `make` lists the targets.
# The stack runs as local processes (scripts/stack.sh, no Docker needed); with Docker,
# `docker compose up --build` runs the same services (docker-compose.yml).
SHELL := bash
.DEFAULT_GOAL := help

# make call attempts=N concurrency=C sleep_between_payouts=S (the original harness's defaults)
attempts ?= 1
concurrency ?= 1
sleep_between_payouts ?= 0.02
# make logs service=api
service ?=
# make replay history=path/to/history.json, or workflow=ID (fetched from Temporal)
history ?=
workflow ?=
# make soak seed=S minutes=M (or SOAK_SEED, SOAK_MINUTES in the environment; unset: a drawn seed, 2 min)
seed ?=
minutes ?=

# Every target that runs project code installs first: on a fresh clone any target works as the
# first command. A second run only checks (about 2 s).
INSTALL := bash scripts/install.sh

.PHONY: help install build setup up down status logs call load report demo test lint chaos soak bench replay

help: ## list the targets
	@echo "usage: make TARGET"
	@awk 'BEGIN { FS = ":.*## " } /^[a-z]+:.*## / { printf "  %-8s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

install: ## install what is missing: node_modules, the temporal CLI, hadolint, PostgreSQL (scripts/install.sh)
	$(INSTALL)

build: ## the production build in dist/ (tsc, prebuilt workflow bundle, migrations): what the image runs
	$(INSTALL)
	npm run build

# `setup` empties both databases. A running Expenzy simulator then has no table: it creates it
# again at its next start (scripts/stack.sh restart expenzy). Temporal's state is kept.
setup: ## install, start PostgreSQL, recreate the holvi and expenzy databases, migrate
	$(INSTALL)
	@if [[ -n "$${HOLVI_DATABASE_URL:-}" ]]; then \
		echo "HOLVI_DATABASE_URL is set: the databases are yours to reset"; \
	else \
		bash scripts/postgres.sh start && bash scripts/postgres.sh reset; \
	fi
	bash scripts/stack.sh start migrate
	@if STACK_SERVICES=expenzy bash scripts/stack.sh status >/dev/null 2>&1; then \
		echo "note: the simulator is running; to recreate its table: bash scripts/stack.sh restart expenzy"; \
	fi

up: ## start the stack (PostgreSQL, Temporal, migrations, Expenzy, worker, API) in the background
	$(INSTALL)
	bash scripts/stack.sh up

down: ## stop the stack
	bash scripts/stack.sh down

status: ## show which services run and are healthy
	@bash scripts/stack.sh status

logs: ## make logs [service=NAME]: follow the services' logs (.stack/logs)
	@bash scripts/stack.sh logs $(service)

call: ## make call attempts=N concurrency=C sleep_between_payouts=S: create payouts (1 1 0.02)
	$(INSTALL)
	npx tsx expenzy/producer-cli.ts --attempts $(attempts) --concurrency $(concurrency) --sleep $(sleep_between_payouts)

load: ## 10000 payouts, 100 webhooks at once, 0.02 s apart
	@$(MAKE) --no-print-directory call attempts=10000 concurrency=100 sleep_between_payouts=0.02

report: ## compare Holvi's payouts with Expenzy's (exit status 0 when consistent)
	@$(INSTALL) >&2
	npx tsx tools/report/cli.ts

demo: ## install, start the stack, make 300 payouts, wait for a clean report; leaves the stack up
	bash scripts/demo.sh

test: ## install (with the test tools), lint, then the whole test suite (it starts its own PostgreSQL and Temporal)
	$(INSTALL) --test
	@$(MAKE) --no-print-directory lint
	npx vitest run

lint: ## eslint, prettier --check, tsc --noEmit
	@$(INSTALL) >&2
	npx eslint . && npx prettier --check . && npx tsc --noEmit

chaos: ## kill and restart services under load, then check the report
	$(INSTALL)
	npx tsx tools/chaos/cli.ts

soak: ## make soak seed=S minutes=M: seeded random faults under a steady producer, invariants checked (exit 1 on a violation)
	$(INSTALL) --soak
	npx tsx tools/soak/cli.ts $(if $(seed),--seed $(seed)) $(if $(minutes),--minutes $(minutes))

bench: ## measure throughput and latency
	$(INSTALL)
	npx tsx bench/run.ts

replay: ## make replay history=FILE | workflow=ID: replay a history against the current workflow code
	@[[ -n "$(history)$(workflow)" ]] || { echo "usage: make replay history=path/to/history.json  (or workflow=expenzy-sync)" >&2; exit 2; }
	@$(INSTALL) >&2
	npx tsx tools/replay.ts $(if $(workflow),--workflow-id "$(workflow)","$(history)")
