"""Fixed-point register modes a chip can have.  Their order is the C engine's numbering
(``csrc/engine.h``, compared by ``tests/runtime/test_c_tables.py``); the IR (``ir.fixed``), the
program format and the specs all read them here."""

from __future__ import annotations

__all__ = ["ROUNDINGS", "OVERFLOWS"]

# How a decay drops its fraction bits.
ROUNDINGS = ("toward_zero", "floor", "nearest")
# What a register does past its width: saturate, two's-complement wrap, or Lava's one correction.
OVERFLOWS = ("saturate", "wrap", "lava_wrap")
