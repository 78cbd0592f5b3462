"""cffi build script of the C engine (API mode).

setup.py names ``ffibuilder`` in ``cffi_modules``, so ``pip install`` compiles csrc/ into
``spikec.runtime._engine``.  ``python runtime/_build.py --sanitize OUTDIR`` builds the same
sources with AddressSanitizer and UBSan as the top-level module ``spikec_engine_asan`` in
OUTDIR, for the sanitized CI run (select it with ``SPIKEC_ENGINE=spikec_engine_asan``).

This file is executed by path at build time, so it imports nothing from spikec.
"""

from __future__ import annotations

import os
import re
import sys

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
CSRC = os.path.join(os.path.dirname(HERE), "csrc")
# Strict IEEE evaluation order: no fused multiply-add, so float kernels round like NumPy.
CFLAGS = ["-std=c99", "-O3", "-ffp-contract=off"]
# -fno-wrapv: Python's own CFLAGS carry -fwrapv, under which UBSan does not check signed overflow.
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-wrapv",
            "-fno-omit-frame-pointer", "-g", "-O1"]


def _headers() -> list[str]:
    """The public headers of csrc/: every ``*.h`` but the ``*_impl.h`` files (code included twice,
    once per arithmetic), engine.h first.  A kernel family with an entry point of its own (a
    crossbar, a pulse-level SFQ emulator) is one ``name.c`` plus ``name.h`` beside the engine."""
    names = sorted(n for n in os.listdir(CSRC) if n.endswith(".h") and not n.endswith("_impl.h"))
    return sorted(names, key=lambda n: n != "engine.h")


def _cdef() -> str:
    """The declarations of the public headers, with preprocessor lines made cffi-friendly.

    Every ``#define`` (the SK_* numbering of kernels, resets, projection kinds, rounding and
    overflow modes, counter and fan-out columns) becomes ``lib.SK_...``, its value taken from
    the compiler; tests/runtime/test_c_tables.py checks the Python tuples that mirror them.
    Everything between a header's ``#include <stdint.h>`` and its last ``#endif`` is declared."""
    parts = []
    for name in _headers():
        with open(os.path.join(CSRC, name)) as f:
            text = f.read()
        body = text.split("#include <stdint.h>", 1)[1].rsplit("#endif", 1)[0]
        body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
        body = re.sub(r"^#include .*$", "", body, flags=re.M)
        # cffi reads integer #defines as `#define NAME ...` and learns the value from the compiler.
        parts.append(re.sub(r"^#define (\w+) .*$", r"#define \1 ...", body, flags=re.M))
    return "\n".join(parts)


def make_ffi(module: str = "spikec.runtime._engine", sanitize: bool = False) -> FFI:
    ffi = FFI()
    ffi.cdef(_cdef())
    ffi.set_source(
        module,
        "".join(f'#include "{h}"\n' for h in _headers()),
        sources=[os.path.join(CSRC, n) for n in sorted(os.listdir(CSRC)) if n.endswith(".c")],
        include_dirs=[CSRC],
        extra_compile_args=CFLAGS + (SANITIZE if sanitize else []),
        extra_link_args=SANITIZE[:1] if sanitize else [],
        depends=[os.path.join(CSRC, n) for n in sorted(os.listdir(CSRC)) if n.endswith((".c", ".h"))],
    )
    return ffi


ffibuilder = make_ffi()

if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--sanitize":
        make_ffi("spikec_engine_asan", sanitize=True).compile(tmpdir=sys.argv[2], verbose=True)
    else:
        sys.exit("usage: python runtime/_build.py --sanitize OUTDIR")
