# Set-up and everyday commands for mmvmt.  Every target is idempotent:
# `.venv/.installed` is a stamp that is only written once all steps passed.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
CONSTRAINTS := -c requirements/constraints.txt
MAX_JOBS ?= 2

.PHONY: venv test demo clean-venv

venv: $(VENV)/.installed

$(VENV)/.installed: requirements/constraints.txt requirements/build.txt requirements/runtime.txt requirements/tests.txt setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(CONSTRAINTS) torch==2.13.0 "numpy<2"
	$(PIP) install -q $(CONSTRAINTS) -r requirements/build.txt
	# mmcv 2.1.0 has no wheel for torch 2.13: build it with its ops (about
	# 10 minutes on 2 cores the first time; pip caches the wheel after that).
	$(PY) -c "import mmcv.ops" 2>/dev/null || \
	  MAX_JOBS=$(MAX_JOBS) MMCV_WITH_OPS=1 $(PIP) install $(CONSTRAINTS) --no-build-isolation mmcv==2.1.0
	$(PIP) install -q $(CONSTRAINTS) -r requirements/runtime.txt -r requirements/tests.txt
	$(PIP) install -q --no-build-isolation --no-deps -e .
	$(PY) -c "import mmcv.ops, mmdet, mmvmt; print('mmvmt environment ready')"
	touch $@

test: venv
	$(PY) -m pytest -q tests

demo: venv
	bash tools/misc/demo.sh

clean-venv:
	rm -rf $(VENV)
