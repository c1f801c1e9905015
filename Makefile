# Engagement Lake — every entry point a user needs. Only python3 and make are assumed.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCALE ?= 0.1
SEED ?= 42
DATA_DIR ?= data
WAREHOUSE ?= warehouse/engagement.duckdb
export ENGAGEMENT_LAKE_DATA_DIR := $(DATA_DIR)
export ENGAGEMENT_LAKE_WAREHOUSE := $(WAREHOUSE)
export DBT_PROFILES_DIR := $(CURDIR)

.PHONY: help install install-spark demo test test-spark lint docs sync bench-generate bench-mdm bench-mdm-noise bench-clv bench-check bench-build clean lock

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==26.3"
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install the package with its pinned dependencies (quick when done)

SPARK_STAMP := $(VENV)/.spark-installed
$(SPARK_STAMP): $(STAMP)
	@command -v java >/dev/null || (apt-get update && apt-get install -y openjdk-17-jre-headless)
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev,spark]"
	@touch $(SPARK_STAMP)

install-spark: $(SPARK_STAMP) ## add pyspark and dbt-spark (the spark target; Java 17 from Debian if missing)

demo: install ## generate the demo data, check bronze, build, check gold, print a summary, write the dashboards
	$(BIN)/engagement-lake generate --scale $(SCALE) --seed $(SEED)
	@# bronze is raw: invalid rows are expected there and quarantined by the build (report only)
	$(BIN)/engagement-lake check --layer bronze --report-only
	$(BIN)/engagement-lake build
	@# gold is the interface: any error-severity failure stops the demo
	$(BIN)/engagement-lake check --layer gold --fail-on-error
	$(BIN)/engagement-lake summary
	@# the dashboards read the serving file the build published; the last line is index.html
	$(BIN)/engagement-lake dashboards --out reports/dashboards

TEST_WORKERS ?= 2
test: install ## run the whole test suite on TEST_WORKERS processes (each builds the small lake once)
	@# one module per worker at a time, the costliest first (tests/python/conftest.py)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test-spark: install-spark ## the Spark suite: a scale-0.01 lake built on DuckDB and on Spark, gold compared (tests/spark); then each Python step's Spark path against its DuckDB path
	$(BIN)/python -m pytest tests/spark -p no:cacheprovider
	$(BIN)/python -m pytest tests/python/test_spark_steps.py -p no:cacheprovider

lint: install ## ruff on Python, sqlfluff (dbt templater) on the models
	@mkdir -p $(dir $(WAREHOUSE))
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	@# models that generate SQL from a rules seed read it at compile time: seed first
	$(BIN)/dbt seed --project-dir . --profiles-dir . --quiet
	$(BIN)/sqlfluff lint models analyses

sync: install ## regenerate the dbt sources YAML from the contracts in schemas/
	$(BIN)/engagement-lake schemas sync

bench-generate: install ## generate scale 1 and, in the same run, TPC-H sf=1 as the reference; print rows/s and peak memory
	$(BIN)/python -m engagement_lake.bench.generate

bench-mdm: install ## customer matching on Febrl 1, 2 and 4 through the build, beside stock Splink; print P/R/F1, clusters, seconds
	$(BIN)/engagement-lake mdm benchmark febrl1 febrl2 febrl4

bench-mdm-noise: install ## self-check: matching on our generator at each identity noise level (SCALE, default 0.1)
	@mkdir -p reports
	$(BIN)/python -m engagement_lake.bench.mdm_noise --scale $(SCALE) --json reports/bench-mdm-noise.json

bench-clv: install ## CLV/churn models: published CDNOW fits reproduced, calibration/holdout and churn AUC (reports/clv/cdnow/)
	$(BIN)/engagement-lake clv benchmark

bench-check: install ## time generate, build and check at SCALE (default 0.1); print check/build
	$(BIN)/python -m engagement_lake.bench.check --scale $(SCALE)

bench-build: install ## dbt build beside its compiled SQL run raw and the I/O floor, plus one incremental daily build, at SCALE (lake kept in BENCH_DIR, default a temp folder; NO_REPLAY=1 times build, checks and publish alone); ratios against the targets
	@mkdir -p reports
	$(BIN)/python -m engagement_lake.bench.build --scale $(SCALE) --seed $(SEED) --json reports/bench-build.json $(if $(BENCH_DIR),--work-dir $(BENCH_DIR)) $(if $(NO_REPLAY),--no-replay)

docs: install ## generate the dbt docs site into target/ (run after make demo for a full catalog)
	@mkdir -p $(dir $(WAREHOUSE))
	$(BIN)/dbt docs generate --project-dir . --profiles-dir .

lock: ## re-freeze constraints.txt from a fresh venv (after editing pyproject.toml)
	rm -rf /tmp/engagement-lake-lock && $(PYTHON) -m venv /tmp/engagement-lake-lock
	/tmp/engagement-lake-lock/bin/pip install --quiet "pip==26.3" && /tmp/engagement-lake-lock/bin/pip install --quiet ".[dev]"
	{ sed -n '1,2p' constraints.txt; /tmp/engagement-lake-lock/bin/pip freeze --exclude engagement-lake; echo "hatchling==1.27.0"; } > constraints.txt.new && mv constraints.txt.new constraints.txt

clean: ## remove generated data, the warehouse, reports and dbt artefacts (keeps .venv)
	rm -rf data warehouse reports target logs dbt_packages .pytest_cache .ruff_cache
