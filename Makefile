# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: demo test lint bench clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install -q -c constraints.txt -e '.[cpu,test]'
	$(BIN)/python -m fitdoctor.i18n
	touch $@

demo: $(VENV)/.installed
	$(BIN)/fitdoctor demo

test: $(VENV)/.installed
	$(BIN)/python -m fitdoctor.i18n
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4  # 2 workers on CI's 2 cores: 3.6 min instead of 5

bench: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[cpu,bench]'
	$(BIN)/python benchmarks/data_bench.py
	$(BIN)/python benchmarks/diagnosis_bench.py

clean-venv:
	rm -rf $(VENV)
