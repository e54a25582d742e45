# Two commands do everything on a fresh clone:  make study  (the default study)  and  make test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= default
CORES ?= 2
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export PYTHONHASHSEED := 0
# CI is true unless unset, empty, 0, false, no or off (any case): the rule of tests/ci_rule.py
CI_TRUE = case "$$(printf '%s' "$${CI:-}" | tr -d '[:space:]' | tr '[:upper:]' '[:lower:]')" in ""|0|false|no|off) false;; *) true;; esac

.PHONY: install study models test lint lab bench mutants paper dag clean-outputs

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first and pinned: the CPU wheel on local disk; a loose pin pulls a multi-GB CUDA build
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

models: install
	$(BIN)/study models prepare --profile $(PROFILE)

study: install
	@# LaTeX for the paper PDF, installed the way `make test` does (where we can: as root or with sudo)
	@command -v latexmk >/dev/null || bash .ci/install-latex.sh || echo "note: LaTeX could not be installed"
	$(BIN)/snakemake --snakefile Snakefile --cores $(CORES) --configfile config/$(PROFILE).yaml --printshellcmds
	@if [ -f results/$(PROFILE)/paper.pdf ] && command -v latexmk >/dev/null; then echo "paper: results/$(PROFILE)/paper.pdf"; \
	else echo "paper: NOT built (no LaTeX here); install it with 'bash .ci/install-latex.sh', then run 'make paper PROFILE=$(PROFILE)'"; fi

test: install
	@# LaTeX for the paper-build test: installed where we can (CI runs as root); elsewhere that test skips.
	@{ command -v latexmk >/dev/null && command -v pdftoppm >/dev/null; } || bash .ci/install-latex.sh || \
		{ ! $(CI_TRUE) && echo "note: LaTeX not installed; the paper-build test will be skipped"; }
	@# Headless Chromium for the explorer's browser test, the same way; elsewhere that test skips (under CI it fails).
	@{ [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; } || bash .ci/install-chromium.sh || \
		{ ! $(CI_TRUE) && echo "note: Chromium not installed; the explorer's browser test will be skipped"; }
	$(BIN)/ruff check study tests bench notebooks
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check study tests bench notebooks

lab: install
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "study (.venv)"
	$(BIN)/jupyter lab notebooks

bench: install
	$(BIN)/python -m bench.run_all

# Mutation scores of the modules that decide the study's conclusions (bench/mutants.toml), rows in results/bench.csv
mutants: install
	$(BIN)/python -m bench.mutants $(if $(MODULE),--module $(MODULE),)

# The paper of a profile (after `make study`): paper/build/main.pdf, copied to results/$(PROFILE)/paper.pdf
paper: install
	$(BIN)/python -m study.publish.paper_macros --profile $(PROFILE)

# The workflow's rule graph, as pictured in the README (needs graphviz's `dot`)
dag: install
	$(BIN)/snakemake --rulegraph --snakefile Snakefile --configfile config/full.yaml --cores 1 | dot -Tpng -Gdpi=110 -o figures/workflow.png
