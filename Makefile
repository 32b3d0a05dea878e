# Set-up and everyday commands for mmvmt.  Every target is idempotent:
# `.venv/.installed` is a stamp that is only written once all steps passed.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
CONSTRAINTS := -c requirements/constraints.txt
MAX_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# Extra pip arguments for torch, e.g. the index of a CUDA build
# (docs/get_started.md, "GPU"); empty: whatever torch 2.13.0 pip finds.
TORCH_PIP_ARGS ?=
# mmcv's ops get their CUDA kernels (FORCE_CUDA=1) only when nvcc is on the
# PATH *and* the installed torch is a CUDA build; otherwise the CPU build.
CUDA_TORCH := import sys, torch; sys.exit(0 if torch.version.cuda else 1)
MMCV_CUDA_OK := from mmcv.ops import get_compiling_cuda_version as v; assert v() != 'not available'

.PHONY: venv test demo clean-venv

venv: $(VENV)/.installed

$(VENV)/.installed: requirements/constraints.txt requirements/build.txt requirements/runtime.txt requirements/tests.txt setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(CONSTRAINTS) $(TORCH_PIP_ARGS) torch==2.13.0 "numpy<2"
	$(PIP) install -q $(CONSTRAINTS) -r requirements/build.txt
	# mmcv 2.1.0 has no wheel for torch 2.13: build it with its ops (about
	# 15 minutes on 2 cores the first time; pip caches the CPU wheel after
	# that). With nvcc and a CUDA torch the CUDA kernels are built too (never
	# from a cached CPU wheel), replacing a CPU-only mmcv.
	if command -v nvcc >/dev/null 2>&1 && $(PY) -c "$(CUDA_TORCH)"; then \
	  echo "nvcc and a CUDA build of torch found: building mmcv with CUDA ops"; \
	  $(PY) -c "$(MMCV_CUDA_OK)" 2>/dev/null || { \
	    $(PIP) uninstall -y -q mmcv; \
	    MAX_JOBS=$(MAX_JOBS) MMCV_WITH_OPS=1 FORCE_CUDA=1 $(PIP) install $(CONSTRAINTS) --no-cache-dir --no-build-isolation mmcv==2.1.0; }; \
	else \
	  $(PY) -c "import mmcv.ops" 2>/dev/null || \
	    MAX_JOBS=$(MAX_JOBS) MMCV_WITH_OPS=1 $(PIP) install $(CONSTRAINTS) --no-build-isolation mmcv==2.1.0; \
	fi
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
