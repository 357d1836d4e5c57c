# The README's two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export CHAINMALL_DATA ?= $(abspath ../shared/data)
export NO_MKDOCS_2_WARNING = 1

.PHONY: demo test lint typecheck unit unit-pandas3 docs bench-quick examples clean

# A second, lighter environment on pandas 3 (the current major) without the anchor
# libraries, which pin pandas < 3. Tests that need an absent extra skip.
VENV3 := .venv-pandas3
PANDAS3 := pandas==3.1.1

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[all,dev]" -c constraints.txt
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/chainmall demo --progress

test: lint typecheck unit unit-pandas3 docs bench-quick examples

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy src

unit: $(VENV)/.installed
	$(PY) -m pytest

$(VENV3)/.installed: pyproject.toml constraints.txt
	test -x $(VENV3)/bin/python || $(PYTHON) -m venv $(VENV3)
	grep -v '^pandas==' constraints.txt > $(VENV3)/constraints.txt
	$(VENV3)/bin/python -m pip install --quiet --upgrade pip
	$(VENV3)/bin/python -m pip install --quiet -e ".[xgboost,plot]" "$(PANDAS3)" pytest hypothesis \
		-c $(VENV3)/constraints.txt
	touch $@

unit-pandas3: $(VENV3)/.installed
	$(VENV3)/bin/python -m pytest -q

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
	rm -rf $(VENV) $(VENV3) .pytest_cache .mypy_cache .ruff_cache site
