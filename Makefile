# The two commands: `make run` and `make test`. Both set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
AGENDA ?= agendas/standing-committee.zh.toml
# one folder per sitting: record, certificates, keys and tokens of another agenda never mix
DATA   ?= var/$(basename $(notdir $(AGENDA)))
HOST   ?= 127.0.0.1
PORT   ?= 8000
# HOST=0.0.0.0 serves the room network; PUBLIC_URL=https://room.example:8443 is what tablets open
PUBLIC_URL ?=

.PHONY: run test lint setup bench clean clean-data mutation mutation-confirm mutation-report

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Hemicycle needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]' --config-settings editable_mode=compat
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	@scripts/system-deps.sh || echo "(continuing: certificates need a CJK font)"
	@mkdir -p $(DATA)
	$(BIN)/hemicycle serve --agenda $(AGENDA) --db $(DATA)/hemicycle.db --credentials $(DATA)/credentials.json \
		--data-dir $(DATA) --host $(HOST) --port $(PORT) $(if $(PUBLIC_URL),--public-url $(PUBLIC_URL))

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(STAMP) lint
	scripts/system-deps.sh --test
	scripts/services.sh
	$(BIN)/python -m pytest -q -p no:cacheprovider

# Mutation testing of server/core (docs/testing.md): not part of `make test`. Bounded in time;
# a second run resumes where the first stopped. MUTANTS=server.core.rules* narrows it. Runs at
# the lowest priority with two children (a shared machine), property tests capped at
# MUTATION_EXAMPLES examples; `make mutation-confirm` re-runs the survivors with the full ones.
MUTATION_MINUTES ?= 40
MUTATION_EXAMPLES ?= 10
MUTANTS ?=
MUTMUT := timeout -s INT -k 60 $$(( $(MUTATION_MINUTES) * 60 )) nice -n 19 $(BIN)/mutmut run --max-children 2
mutation: $(STAMP)
	$(BIN)/pip install -q -e '.[mutation]' --config-settings editable_mode=compat
	HEMICYCLE_MUTATION_EXAMPLES=$(MUTATION_EXAMPLES) $(MUTMUT) $(MUTANTS) || [ $$? -eq 124 ]
	$(MAKE) --no-print-directory mutation-report

mutation-confirm: $(STAMP)
	names=$$($(BIN)/python scripts/mutation_report.py --survivors $(MUTANTS)); \
	[ -z "$$names" ] || $(MUTMUT) $$names || [ $$? -eq 124 ]
	$(MAKE) --no-print-directory mutation-report

mutation-report: $(STAMP)
	$(BIN)/python scripts/mutation_report.py

bench: $(STAMP)
	$(BIN)/python bench/vote_burst.py

# The environment only: var/ holds the sitting's legal record (database, certificates,
# keys) and is never removed by `clean`.
clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info mutants

# Deletes the record for good: asks first (CONFIRM=yes skips the question, for scripts).
clean-data:
	@if [ "$(CONFIRM)" != "yes" ]; then \
		printf "Delete var/ — the sitting's database, certificates and keys — for good? Type yes: "; \
		read answer; [ "$$answer" = "yes" ] || { echo "kept var/"; exit 1; }; \
	fi
	rm -rf var
