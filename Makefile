# viberglass-infra. `make synth` and `make test` set up everything they need on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := .venv
CHECKOV_VENV := .tools/checkov
PY := $(VENV)/bin/python
# uv (from PyPI) installs the venvs: ~10x faster than pip, and its cache (~/.cache/uv) makes a second
# install take seconds. EXTRAS= (empty) installs only what synth needs (the CI plan jobs).
# With the dev extras, --compile-bytecode writes the .pyc files at install time, as pip does and uv does not
# by default: the provider bindings are 230 MB of Python, and where .pyc files cannot be written later
# (read-only site-packages, PYTHONDONTWRITEBYTECODE=1) every process compiles again what it imports (the
# test suite's eager import: 29 s instead of 12 s, docs/performance.md). A synth-only install (EXTRAS=, the
# plan jobs) imports ~100 provider modules once and skips the ~10 s of compiling all 2,200.
UV_VERSION := 0.13.8
UV := .tools/uv/bin/uv
EXTRAS ?= [dev]
# The project is installed editable as a path entry (setuptools' `compat` mode: a .pth naming this folder), not
# through setuptools' default import finder, which every Python process of the venv imported at start-up
# (pathlib and friends, ~10 ms a process; the tests start several hundred: docs/decisions.md).
COMPILE = $(if $(EXTRAS),--compile-bytecode,)

# The pinned Node 22 and cdktf CLI from node_modules come first; no telemetry/version checks (offline).
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export CHECKPOINT_DISABLE := 1
export VIBERGLASS_ENV ?= dev

.PHONY: setup synth test check bench docs diagram lock clean mutation

setup: $(VENV)/.installed node_modules/.installed $(CHECKOV_VENV)/.installed

$(UV):
	python3 -m venv .tools/uv
	.tools/uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml constraints.txt | $(UV)
	$(UV) venv --quiet --allow-existing --python python3 $(VENV)
	VIRTUAL_ENV=$(VENV) $(UV) pip install --quiet $(COMPILE) -c constraints.txt -e '.$(EXTRAS)' \
	  --config-settings editable_mode=compat
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt | $(UV)
	$(UV) venv --quiet --allow-existing --python python3 $(CHECKOV_VENV)
	VIRTUAL_ENV=$(CHECKOV_VENV) $(UV) pip install --quiet --compile-bytecode -r requirements-checkov.txt
	touch $@

## synth: Terraform JSON for every stack of $VIBERGLASS_ENV (default dev) in $(SYNTH_OUT), via the pinned CLI.
## The configuration is checked before the CLI runs: bad input gives one `error:` line (status 2, which make
## reports as its own Error 2), a failed synthesis one line too (Error 1); nothing is left in $(SYNTH_OUT).
SYNTH_OUT ?= cdktf.out
synth: $(VENV)/.installed node_modules/.installed
	@$(PY) scripts/synth.py $(SYNTH_OUT)

## test: the test suite. On CI (CI set, as GitHub Actions does) anything the tests write into the runner's home
## fails the run; on a machine whose home other people's processes share it is a warning (docs/testing.md).
test: $(VENV)/.installed node_modules/.installed $(CHECKOV_VENV)/.installed
	$(PY) -m pytest $(if $(CI),--strict-home,)

## mutation: mutation testing (mutmut) of the project's own decisions, in the groups of [tool.mutation.groups] in
## pyproject.toml (config rules and schema, core/, the plan comment, the HCP runs, the policy rules, the bootstrap and
## deploy decisions): one mutmut run per group, one after another, each with its own mutated files, its own tests and
## a time budget that stops it loudly; then the score per module (scripts/mutation.py report; docs/testing.md).
## MUTATION_GROUPS="config core" runs chosen groups; MUTATION_CHILDREN=1 leaves a core to others. Incremental: a
## second run re-tests only changed functions (rm -rf mutants to start over).
MUTATION_CHILDREN ?= $(shell nproc)
MUTATION_GROUPS ?=
mutation: $(VENV)/.installed node_modules/.installed $(CHECKOV_VENV)/.installed
	$(PY) scripts/mutation.py run --max-children $(MUTATION_CHILDREN) $(MUTATION_GROUPS)

## check: the quality gate (format, lint, types, tests, checkov, workflow linters); CI runs exactly this.
check: setup
	scripts/check

## bench: synth timings and memory (docs/performance.md).
bench: $(VENV)/.installed node_modules/.installed
	$(PY) bench/synth_bench.py

## docs: regenerate the generated parts of docs/ (example plan comment).
docs: $(VENV)/.installed
	$(PY) scripts/docs.py

## diagram: docs/architecture-overview.* and docs/architecture-<stack>.* (DOT, SVG, PNG) for prod, drawn from the
## synthesized stacks with the `diagrams` icons (needs Graphviz: installed with apt when missing).
diagram: $(VENV)/.installed node_modules/.installed
	@command -v dot > /dev/null || { echo "installing Graphviz (Debian: graphviz)"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -q graphviz > /dev/null; }
	rm -rf .tools/diagram-synth
	VIBERGLASS_ENV=prod $(PY) -m stacks --outdir .tools/diagram-synth prod
	rm -f docs/architecture-*.dot docs/architecture-*.svg docs/architecture-*.png
	$(PY) -m ops diagram --synth-dir .tools/diagram-synth/prod --out docs/architecture \
	  --title "Viberglass infrastructure (prod)"

## lock: refresh constraints.txt from a clean install of pyproject.toml.
lock:
	rm -rf .tools/lock && python3 -m venv .tools/lock
	.tools/lock/bin/pip install --quiet -e '.[dev]'
	{ echo "# pip constraints for .venv (pip freeze of a clean 'pip install -e .[dev]'); refresh with 'make lock'."; \
	  .tools/lock/bin/pip freeze --exclude-editable; } > constraints.txt
	rm -rf .tools/lock

clean:
	rm -rf cdktf.out .pytest_cache .mypy_cache .ruff_cache mutants
