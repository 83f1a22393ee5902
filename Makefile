# Two commands do all set-up on a fresh machine: `make lab` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TRAIN_ARGS ?=
EXPLORE_PORT ?= 8866
# JupyterLab refuses to start as root (Docker images, some cloud VMs) unless told it may.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: install lab test test-envs train explore benchmark multi-worker clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[notebooks,test]"
	touch $(STAMP)

install: $(STAMP)

lab: install  ## open the notebooks in JupyterLab
	$(BIN)/jupyter lab notebooks/ $(ROOT_FLAG)

# The tests read the real MNIST: from INFOGAN_DATA_DIR or data/, else from ../shared/datasets when a CI machine has it
# there (offline; .ci/run points at it too).
SHARED_MNIST_DIR := $(if $(wildcard ../shared/datasets/mnist.npz),$(abspath ../shared/datasets),)

test: install  ## every test, the notebooks (in quick mode) included; the slowest are listed at the end
	INFOGAN_DATA_DIR="$${INFOGAN_DATA_DIR:-$(SHARED_MNIST_DIR)}" INFOGAN_QUICK=1 TF_CPP_MIN_LOG_LEVEL=3 $(BIN)/python -m pytest -n 2 --dist load --maxschedchunk 1 --durations=15

test-envs: install  ## before a release: the chapters and unit tests at the lowest allowed versions and at Colab's
	$(BIN)/python tools/test_envs.py

train: install  ## the paper's full MNIST run into my-runs/ (override: make train TRAIN_ARGS="--steps 200")
	$(BIN)/python -m infogan_utils train $(TRAIN_ARGS)

explore: install  ## the latent explorer as a standalone Voila app (override: make explore EXPLORE_PORT=8900)
	@echo "Latent explorer: open http://127.0.0.1:$(EXPLORE_PORT)/ in a browser (Ctrl-C stops the server)"
	TF_CPP_MIN_LOG_LEVEL=3 $(BIN)/python -m voila notebooks/explorer_app.ipynb --no-browser \
		--port=$(EXPLORE_PORT) --Voila.ip=127.0.0.1

benchmark: install  ## training speed against a PyTorch reference, and the explorer's redraw speed, on this machine
	$(BIN)/python -m pip install -e ".[bench]"
	$(BIN)/python benchmarks/train_speed.py --write benchmarks/SPEED.md
	$(BIN)/python benchmarks/redraw_speed.py --output benchmarks/REDRAW.md

multi-worker: install  ## a few steps on two worker processes on 127.0.0.1 (MultiWorkerMirroredStrategy, docs/devices.md)
	TF_CPP_MIN_LOG_LEVEL=3 $(BIN)/python tools/multi_worker.py

clean:
	rm -rf $(VENV) runs/quick-* build/envs
