# The README's two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export CHAINMALL_DATA ?= $(abspath ../shared/data)
export NO_MKDOCS_2_WARNING = 1

.PHONY: demo test lint typecheck unit unit-pandas3 docs bench-quick examples check-fresh clean

# A second, lighter environment on pandas 3 (the current major) without the anchor
# libraries, which pin pandas < 3. Tests that need an absent extra skip.
VENV3 := .venv-pandas3
PANDAS3 := pandas==3.1.1

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "make: '$(PYTHON) -m venv' failed;" \
		"on Debian/Ubuntu install python3-venv (apt-get install python3-venv)" >&2; exit 1; }
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
	$(VENV3)/bin/python -m pip install --quiet -e ".[xgboost,plot,postgres,mysql]" "$(PANDAS3)" pytest hypothesis \
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
	@set -e; for name in $$($(PY) -m chainmall.examples | cut -d' ' -f1); do \
		echo "== $$name"; \
		MPLBACKEND=Agg $(PY) -m chainmall.examples $$name > /dev/null; \
	done

# A machine without the system packages of .ci/run (Tesseract, CJK fonts, Chromium):
# the quick benchmarks, the examples and the OCR/browser tests run with those tools
# hidden (PATH without them, fontconfig and CHAINMALL_FONT_DIRS on an empty folder) and
# must pass, the parts that need the tools skipping with a line that says so.
FRESH := $(abspath $(VENV))/fresh
HIDDEN_TOOLS := tesseract chromium chromium-browser google-chrome google-chrome-stable fc-list

check-fresh: $(VENV)/.installed
	@rm -rf $(FRESH) && mkdir -p $(FRESH)/bin $(FRESH)/fonts $(FRESH)/mpl
	@printf '<?xml version="1.0"?>\n<fontconfig><dir>%s</dir></fontconfig>\n' \
		"$(FRESH)/fonts" > $(FRESH)/fonts.conf
	@IFS=:; for dir in $$PATH; do [ -d "$$dir" ] || continue; for exe in "$$dir"/*; do \
		name=$${exe##*/}; \
		case " $(HIDDEN_TOOLS) " in *" $$name "*) continue ;; esac; \
		if [ -x "$$exe" ] && [ ! -e "$(FRESH)/bin/$$name" ]; then \
			ln -s "$$exe" "$(FRESH)/bin/$$name"; fi; \
	done; done
	@echo "== quick benchmarks, examples and OCR/browser tests without $(HIDDEN_TOOLS) or fonts"
	@export PATH="$(FRESH)/bin" FONTCONFIG_FILE="$(FRESH)/fonts.conf" \
		CHAINMALL_FONT_DIRS="$(FRESH)/fonts" MPLCONFIGDIR="$(FRESH)/mpl"; \
	$(MAKE) --no-print-directory bench-quick examples > $(FRESH)/run.log 2>&1 \
		|| { tail -n 40 $(FRESH)/run.log; exit 1; }; \
	$(PY) -m pytest -q -rs -p no:randomly tests/card tests/report > $(FRESH)/tests.log 2>&1 \
		|| { tail -n 40 $(FRESH)/tests.log; exit 1; }
	@grep '^SKIPPED: ' $(FRESH)/run.log || { echo "check-fresh: the OCR benchmark did not" \
		"say it skipped" >&2; exit 1; }
	@grep -E '^SKIPPED .*(tesseract|CJK font|[Cc]hromium)' $(FRESH)/tests.log || { \
		echo "check-fresh: no test said it skipped for a missing tool" >&2; exit 1; }
	@echo "check-fresh: passed"

clean:
	rm -rf $(VENV) $(VENV3) .pytest_cache .mypy_cache .ruff_cache site
