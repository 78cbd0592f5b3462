# spikec build scaffold.  Every ?= variable can be overridden, e.g. make test VENV=/tmp/venv PY=python3
# (the torch extra is Python 3.11 only here: torch==2.13.0+cpu lies on disk for cp311 alone).
PY       ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV     ?= .venv
VPY      := $(VENV)/bin/python
# torch is pinned in the extras; installing it first (same pin) makes sure nothing
# that comes after it (snntorch, nirtorch, ...) can pull a newer, CUDA, torch.
TORCH    ?= torch==2.13.0
EXTRAS   ?= torch,test
PIPFLAGS ?=
PYTEST_ARGS ?= -p no:cacheprovider

STAMP := $(VENV)/.installed

.PHONY: venv venv310 test test-main test-py310 demo clean distclean

venv: $(STAMP)

$(STAMP): pyproject.toml setup.py
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install $(PIPFLAGS) --upgrade pip setuptools wheel
	$(VPY) -m pip install $(PIPFLAGS) "$(TORCH)"
	$(VPY) -m pip install $(PIPFLAGS) "$(TORCH)" -e ".[$(EXTRAS)]"
	$(VPY) -c "import torch, sys; v = torch.__version__; print('torch', v); sys.exit(0 if v.startswith('2.13.0') else 'torch is ' + v + ', expected 2.13.0')"
	touch $@

# The core (IR, NIR frontend, reference simulator) must also run where Lava does: Python
# 3.10 with numpy 1.26 and networkx 2.8 (see DESIGN.md).  No torch there: the only torch
# wheel on disk is for 3.11, and tests that need torch skip themselves in that venv.
PY310    ?= $(shell command -v pyenv >/dev/null 2>&1 && echo $$(pyenv root)/versions/3.10.13/bin/python || command -v python3.10)
VENV310  ?= .venv310
STAMP310 := $(VENV310)/.installed
CORE_TESTS ?= $(wildcard tests/ir) tests/compiler/test_nir_import_export.py

venv310: $(STAMP310)

$(STAMP310): pyproject.toml setup.py
	test -x $(VENV310)/bin/python || $(PY310) -m venv $(VENV310)
	$(VENV310)/bin/python -m pip install $(PIPFLAGS) "numpy<2" "networkx==2.8.7" pytest hypothesis
	$(VENV310)/bin/python -m pip install $(PIPFLAGS) "numpy<2" "networkx==2.8.7" -e .
	touch $@

test: test-main test-py310

test-main: venv
	$(VPY) -m pytest -q $(PYTEST_ARGS) tests

test-py310: venv310
	SPIKEC_CORE_ONLY=1 $(VENV310)/bin/python -m pytest -q $(PYTEST_ARGS) $(CORE_TESTS)

demo: venv
	$(VENV)/bin/spikec demo

clean:
	rm -rf build dist *.egg-info .pytest_cache .hypothesis out
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -path ./$(VENV) -prune -o \( -name '*.so' -o -name '*.pyc' \) -type f -exec rm -f {} +

distclean: clean
	rm -rf $(VENV) $(VENV310)
