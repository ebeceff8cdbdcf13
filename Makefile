# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test bench clean chromium lkmm

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip install --quiet -e '.[ray]' || echo "ray did not install: its tests skip"
	touch $(STAMP)

# The 2013 thread, settled: the matrix, the readers counter under SC and TSO,
# its ablation, and the split race told step by step. Exit 1 means "found the
# bugs the thread predicted", so only 2 (bad input) and 3 (internal) fail.
demo: $(STAMP) lkmm
	mkdir -p out
	$(BIN)/gupsim matrix --workers 2 --html out/matrix.html --plot out/matrix.png || test $$? -eq 1
	$(BIN)/gupsim matrix --designs readers-counter-2013 --arches arm64 --memory-models sc,tso || test $$? -eq 1
	$(BIN)/gupsim ablate gup-vs-thp-split --design readers-counter-2013 --arch arm64
	$(BIN)/gupsim explain gup-vs-thp-split --param design=arm-rfc-2013 --param arch=arm64 || test $$? -eq 1
	$(BIN)/gupsim explain gup-vs-munmap --arch arm64 --design arm-rfc-2013 --html out/seed-race.html > /dev/null || test $$? -eq 1
	@echo "pages: out/seed-race.html (the seed patch's race, step by step), out/matrix.html (each found cell links to its counterexample page beside it), out/matrix.png"

# The browser tests (tests/html, marked browser) drive Debian's chromium.
test: $(STAMP) chromium lkmm
	GUPSIM_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q

chromium:
	@command -v chromium > /dev/null || { if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "chromium is missing: sudo apt-get install chromium (the browser tests need it)"; exit 1; fi; }

# The kernel's memory model and litmus tests are not copied here: use a kernel
# tree ($$GUPSIM_LKMM_DIR), the shared copy beside the checkout, or fetch them
# from Debian's linux-source package into .cache/lkmm.
lkmm:
	@if [ -n "$$GUPSIM_LKMM_DIR" ] || [ -f ../shared/litmus/lkmm/model/lock.cat ] \
	  || [ -f .cache/lkmm/model/lock.cat ]; then :; else $(PYTHON) scripts/fetch_lkmm.py; fi

bench: $(STAMP)
	$(BIN)/gupsim bench

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
