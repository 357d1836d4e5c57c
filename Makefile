# The README's two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export CHAINMALL_DATA ?= $(abspath ../shared/data)
export NO_MKDOCS_2_WARNING = 1

.PHONY: demo test lint typecheck unit docs bench-quick examples clean

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[all,dev]" -c constraints.txt
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/chainmall demo

test: lint typecheck unit docs bench-quick examples

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy src

unit: $(VENV)/.installed
	$(PY) -m pytest

docs: $(VENV)/.installed
	$(VENV)/bin/mkdocs build --strict --quiet --site-dir $(VENV)/site

bench-quick: $(VENV)/.installed
	@set -e; for script in benchmarks/bench_*.py; do \
		[ -e "$$script" ] || continue; \
		echo "== $$script --quick"; \
		$(PY) $$script --quick; \
	done

examples: $(VENV)/.installed
	@set -e; for script in examples/*.py; do \
		echo "== $$script"; \
		MPLBACKEND=Agg $(PY) $$script > /dev/null; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site
