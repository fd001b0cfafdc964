# trendtrace — every target sets itself up on a fresh Debian 12 machine (apt packages, uv, venv, Airflow DB).
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c
ENV := source scripts/airflow_env.sh
DEMO_DIR ?= data/demo
# `make demo` builds the `quick` world (7 days, ~560 posts: ~10 min from a fresh 2-core machine);
# `make demo DEMO=full` the full-size one (= DEMO_SCALE=demo DEMO_DAYS=14, ~1 800 posts, the README's figures).
DEMO ?= quick
ifeq ($(DEMO),full)
DEMO_SCALE ?= demo
DEMO_DAYS ?= 14
endif
DEMO_SCALE ?= quick
DEMO_DAYS ?= 7
DEMO_SEED ?= 7
# pytest-xdist worker processes for test/test-fast (`make test PYTEST_WORKERS=0` runs serially). One more than the
# 2 cores: 2 workers and 4 were both slower on a clean clone (12 min 19 s and 12 min 38 s, against 10:38-11:58 at 3).
PYTEST_WORKERS ?= 3

.PHONY: setup demo lint test test-fast bench bench-scale serve clean help cluster cluster-down cluster-test

help:
	@echo "make demo   build the quick sample world (7 days) and run the daily DAG over it (prints the summary)"
	@echo "            make demo DEMO=full: the full-size world (DEMO_SCALE=demo DEMO_DAYS=14)"
	@echo "make lint   ruff check (the rules are in pyproject.toml); make test runs it first"
	@echo "make test   lint, then the whole test suite (slow tests included) on $(PYTEST_WORKERS) xdist workers"
	@echo "make bench  matching accuracy and lookup scaling, a match_sounds day's cost per step, its shards on 1 vs 2 workers, the audio lineage evidence with vs without (demo world, and its index padded to 10k sounds), lineage at 1M posts vs networkx, publish cost, sample-world build speed (ratios, same run), fresh alerts: landing → alert delivered (real Airflow)"
	@echo "make bench-scale  capacity on a share of the large world with media (posts/s per stage, RSS, index bytes; ~1 h here)"
	@echo "make serve  start Airflow (scheduler + api-server + dag-processor) for real daily runs"
	@echo "make cluster       start a Celery Airflow on 127.0.0.1 (PostgreSQL, Redis, 2 workers; state in .cluster/)"
	@echo "make cluster-down  stop it; make cluster-test: backfill the small world through it = the embedded run"

setup:
	bash scripts/setup.sh

demo:  # scripts/demo.sh runs the set-up itself, as its first timed phase
	bash scripts/demo.sh "$(DEMO_DIR)" "$(DEMO_SCALE)" "$(DEMO_DAYS)" "$(DEMO_SEED)"

lint: setup
	$(ENV)
	uv run ruff check .

# the whole suite includes the cluster backfill test (tests/cluster, marked `cluster`); the cluster fault test
# (marked `cluster_faults`: a killed worker, a restarted PostgreSQL; 6-7 min) runs in `make cluster-test` only
test: setup lint
	$(ENV)
	uv run pytest -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder --durations=30 -m "not cluster_faults"

test-fast: setup lint
	$(ENV)
	uv run pytest -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder -m "not slow"

bench: setup
	$(ENV)
	uv run python scripts/bench_fingerprint.py
	uv run python scripts/bench_matching.py
	uv run python scripts/bench_matching.py --scale
	uv run python scripts/bench_lineage.py
	uv run python scripts/bench_backdated.py
	uv run python scripts/bench_world.py
	uv run python scripts/bench_match_day.py --posts 1000 --sounds 1000
	uv run python scripts/bench_match_shards.py --posts 300 --sounds 10000
	uv run python scripts/bench_lineage_audio.py --sounds 10000
	uv run python scripts/bench_publish.py
	uv run python scripts/bench_fresh.py

# Capacity (docs/scaling.md, "Capacity"): builds a share of the large sample world with media and backfills it;
# about an hour here, so not in CI nor in `make bench`. The default share is the one docs/scaling.md reports.
BENCH_SCALE_ARGS ?= --posts 4000 --days 14 --backfill-days 10
bench-scale: setup
	$(ENV)
	nice -n 15 uv run python scripts/bench_scale.py $(BENCH_SCALE_ARGS)

serve: setup
	$(ENV)
	export TRENDTRACE_LANDING="$${TRENDTRACE_LANDING:-$$PWD/$(DEMO_DIR)/landing}"
	export TRENDTRACE_WAREHOUSE="$${TRENDTRACE_WAREHOUSE:-$$PWD/data/warehouse/trendtrace.duckdb}"
	echo "Airflow UI: http://127.0.0.1:8080  (landing $$TRENDTRACE_LANDING, warehouse $$TRENDTRACE_WAREHOUSE)"
	uv run airflow standalone

# A real multi-process Airflow (scripts/cluster/cluster.sh; docs/scaling.md, "Running on the cluster").
# Landing zone and warehouse as for `make serve`; CLUSTER_DIR (default .cluster) holds all of its state.
cluster: setup
	$(ENV)
	export TRENDTRACE_LANDING="$${TRENDTRACE_LANDING:-$$PWD/$(DEMO_DIR)/landing}"
	bash scripts/cluster/cluster.sh up

cluster-down:
	bash scripts/cluster/cluster.sh down

cluster-test: setup
	$(ENV)
	uv run pytest -n 0 -s -m cluster tests/cluster

clean: cluster-down
	rm -rf data/warehouse data/demo .airflow .cluster
