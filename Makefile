# Two commands do all the set-up on a fresh clone:
#   make run    create the environment if needed and serve the app on the bundled model
#   make test   create the environment if needed, make sure a Chromium exists, run every test
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8501
N      ?= 2

.PHONY: run test unit bench pretrain chromium postgres clean-venv cluster ray-head servers

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m streamlit run app.py --server.port $(PORT)

chromium:
	@bash scripts/ensure_chromium.sh $(VENV)

postgres:
	@bash scripts/ensure_postgres.sh

test: $(STAMP) chromium postgres
	$(PY) -m pytest

# The fast part of the suite: no browser.
unit: $(STAMP) postgres
	$(PY) -m pytest -m "not e2e"

bench: $(STAMP)
	$(PY) bench/capture_overhead.py
	$(PY) bench/finetune_throughput.py
	$(PY) bench/training_isolation.py
	RAY_AUTH_MODE=disabled $(PY) bench/ray_jobs.py

# N app servers on ports PORT, PORT+1, ... sharing one PostgreSQL (ALBERT_VIZ_DATABASE_URL, or a throwaway one).
servers: $(STAMP) postgres
	$(PY) scripts/servers.py -n $(N) --port $(PORT)

# Fine-tuning jobs on Ray: install it, start a head on this machine, point the app at it.
cluster: $(STAMP)
	$(PY) -m pip install -q -r requirements-cluster.txt

ray-head: cluster
	$(VENV)/bin/ray start --head --num-cpus=$${RAY_CPUS:-2} --include-dashboard=false
	@echo "now: ALBERT_VIZ_RAY_ADDRESS=auto make run"

# Rebuild corpus -> distilled ALBERT-tiny (about 90 minutes on 2 CPU cores).
pretrain: $(STAMP)
	$(PY) -m pip install -q -r requirements-pretrain.txt
	$(PY) -m albert_viz.pretrain

clean-venv:
	rm -rf $(VENV)
