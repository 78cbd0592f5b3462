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
# Test oracles that cannot go through the `test` extra (they need --no-deps).
ORACLES ?= badcrossbar==1.1.0 sigfig==1.4.0 sortedcontainers==2.4.0 pathvalidate==3.3.1 norse==1.1.0
VENV310  ?= .venv310
# The C engine (csrc/) is compiled by pip through cffi; an edit there only rebuilds it.
ENGINE_SRC := $(wildcard csrc/*.c csrc/*.h) runtime/_build.py
ENGINE     := $(VENV)/.engine
ENGINE310  := $(VENV310)/.engine


.PHONY: venv venv310 lava browser engine test test-main test-py310 test-asan demo clean distclean bench bench-venvs

venv: $(STAMP) $(ENGINE)

engine: $(ENGINE)

$(ENGINE): $(STAMP) $(ENGINE_SRC)
	$(VPY) -m pip install $(PIPFLAGS) --no-deps --no-build-isolation -e .
	touch $@

$(STAMP): pyproject.toml setup.py
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install $(PIPFLAGS) --upgrade pip setuptools wheel
	$(VPY) -m pip install $(PIPFLAGS) "$(TORCH)"
	$(VPY) -m pip install $(PIPFLAGS) "$(TORCH)" -e ".[$(EXTRAS)]"
	# badcrossbar: the IR-drop oracle of the ReRAM tests; --no-deps skips pycairo (plots only).
	# norse: the NIR-import oracle of source="norse"; --no-deps keeps its torch/torchvision pins out.
	$(VPY) -m pip install $(PIPFLAGS) --no-deps $(ORACLES)
	$(VPY) -c "import torch, sys; v = torch.__version__; print('torch', v); sys.exit(0 if v.startswith('2.13.0') else 'torch is ' + v + ', expected 2.13.0')"
	touch $@

# The core (IR, NIR frontend, reference simulator) must also run where Lava does: Python
# 3.10 with numpy 1.26 and networkx 2.8 (see DESIGN.md).  No torch there: the only torch
# wheel on disk is for 3.11, and tests that need torch skip themselves in that venv.
PY310    ?= $(shell command -v pyenv >/dev/null 2>&1 && echo $$(pyenv root)/versions/3.10.13/bin/python || command -v python3.10)
STAMP310 := $(VENV310)/.installed
CORE_TESTS ?= $(wildcard tests/ir) $(wildcard tests/runtime) tests/compiler/test_nir_import_export.py \
              $(wildcard tests/compiler/test_fold_batchnorm.py tests/compiler/test_map_delays.py tests/compiler/test_quantize.py \
                         tests/compiler/test_mapping.py tests/test_hardware.py tests/targets/test_spinnaker2_routing.py)

venv310: $(STAMP310) $(ENGINE310)

$(ENGINE310): $(STAMP310) $(ENGINE_SRC)
	$(VENV310)/bin/python -m pip install $(PIPFLAGS) --no-deps --no-build-isolation -e .
	touch $@

$(STAMP310): pyproject.toml setup.py
	test -x $(VENV310)/bin/python || $(PY310) -m venv $(VENV310)
	$(VENV310)/bin/python -m pip install $(PIPFLAGS) --upgrade pip "setuptools>=64" wheel
	$(VENV310)/bin/python -m pip install $(PIPFLAGS) "numpy<2" "networkx==2.8.7" pytest hypothesis
	$(VENV310)/bin/python -m pip install $(PIPFLAGS) "numpy<2" "networkx==2.8.7" -e .
	touch $@

test: test-main test-py310 test-asan

# The Loihi 2 tests run every network on Lava too (tests/targets), so the Lava env comes first;
# the report tests open their HTML in a headless browser.
test-main: venv lava browser
	$(VPY) -m pytest -q $(PYTEST_ARGS) tests

test-py310: venv310
	SPIKEC_CORE_ONLY=1 $(VENV310)/bin/python -m pytest -q $(PYTEST_ARGS) $(CORE_TESTS)

# The runtime tests once more against the engine built with AddressSanitizer + UBSan
# (module spikec_engine_asan in build/asan, chosen through $$SPIKEC_ENGINE).  The sanitizer
# runtimes must be loaded before Python itself; leak checking is off because CPython keeps
# its allocations until exit.
ASAN_DIR  := build/asan
ASAN_LIBS  = $(shell gcc -print-file-name=libasan.so):$(shell gcc -print-file-name=libubsan.so)

$(ASAN_DIR)/.built: $(ENGINE) $(ENGINE_SRC)
	mkdir -p $(ASAN_DIR)
	$(VPY) runtime/_build.py --sanitize $(ASAN_DIR) > $(ASAN_DIR).log 2>&1 || (cat $(ASAN_DIR).log; exit 1)
	touch $@

test-asan: $(ASAN_DIR)/.built
	LD_PRELOAD=$(ASAN_LIBS) ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	PYTHONPATH=$(ASAN_DIR) SPIKEC_ENGINE=spikec_engine_asan $(VPY) -m pytest -q $(PYTEST_ARGS) tests/runtime

# The headless browser of tests/report: Debian's chromium, driven by playwright (in the test
# extra) through its executable path; Playwright's own browser download is not reachable here.
# Installed once (apt-get, as root); under CI=true a failed install fails the build, elsewhere it
# only warns and the browser tests skip.
CHROMIUM ?= /usr/bin/chromium
BROWSER_STAMP := $(VENV)/.browser

browser: $(BROWSER_STAMP)

$(BROWSER_STAMP): $(STAMP)
	@if test -x $(CHROMIUM) || (apt-get update && apt-get install -y --no-install-recommends chromium); then \
	  $(CHROMIUM) --headless --no-sandbox --version && touch $@; \
	elif [ "$$CI" = true ]; then echo "error: cannot install chromium (apt-get) for the report tests" >&2; exit 1; \
	else echo "warning: no $(CHROMIUM): the browser tests of tests/report will skip" >&2; fi

demo: venv
	$(VENV)/bin/spikec demo

# Lava (lava-nc 0.10: Python 3.10, numpy < 2) joins spikec's core in the 3.10 venv: the
# Loihi 2 target runs programs there (spikec.targets.loihi2.backend) and the tests compare it
# with the C engine, spike for spike.
LAVA     ?= lava-nc==0.10.0
LAVA_STAMP  := $(VENV310)/.lava

lava: $(LAVA_STAMP) $(ENGINE310)

$(LAVA_STAMP): $(STAMP310)
	$(VENV310)/bin/python -m pip install $(PIPFLAGS) "numpy<2" "networkx==2.8.7" "$(LAVA)"
	touch $@

# --- bench/cuba.py: spikec vs Brian2 C++ standalone vs Lava (CPU), see bench/README.md ---
# Brian2 2.11 needs Python >= 3.13 (2.9, the last release for 3.11, does not import with
# numpy 2.4), so it gets a venv of its own; only `make bench` installs it.
PY313    ?= $(shell command -v pyenv >/dev/null 2>&1 && echo $$(pyenv root)/versions/3.13.0/bin/python || command -v python3.13)
VENV313  ?= .venv313
BRIAN_STAMP := $(VENV313)/.brian2
BENCH_ARGS ?=

bench-venvs: $(STAMP) $(BRIAN_STAMP) $(LAVA_STAMP) $(ENGINE310)

# The brian2 pin lives in pyproject's `bench` extra (one source of truth), but only the
# extra's requirements are installed here, not spikec itself: bench/cuba_brian2.py needs
# numpy and brian2 alone, and an editable install would rebuild runtime/_engine.abi3.so
# in the work tree from this venv.
BENCH_REQS = $(VENV313)/bin/python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["bench"])'

$(BRIAN_STAMP): pyproject.toml
	test -x $(VENV313)/bin/python || $(PY313) -m venv $(VENV313)
	$(VENV313)/bin/python -m pip install $(PIPFLAGS) --upgrade pip
	$(VENV313)/bin/python -m pip install $(PIPFLAGS) $$($(BENCH_REQS))
	touch $@

bench: bench-venvs
	$(VPY) bench/cuba.py --python-brian2 $(VENV313)/bin/python --python-lava $(VENV310)/bin/python $(BENCH_ARGS)

clean:
	rm -rf build dist *.egg-info .pytest_cache .hypothesis out
	rm -f $(ENGINE) $(ENGINE310)  # the compiled engine goes below, so it must be rebuilt
	find . -path './.venv*' -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -path './.venv*' -prune -o \( -name '*.so' -o -name '*.pyc' \) -type f -exec rm -f {} +

distclean: clean
	rm -rf $(VENV) $(VENV310) $(VENV313)
