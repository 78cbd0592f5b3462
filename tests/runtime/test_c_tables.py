"""The Python names of the C engine's numbered constants agree with csrc/engine.h.

Python hands the engine ``KERNELS.index(kernel)``, ``RESETS.index(reset)``, ... and reads its
counter and fan-out columns by position, so each of these tuples must list its names in the
C numbering.  Every constant of engine.h reaches Python through cffi as ``lib.SK_...`` (see
runtime/_build.py); this file compares the two, in the sanitized build too
(``$SPIKEC_ENGINE``).
"""

from __future__ import annotations

from typing import Callable

import pytest
from spikec.hardware.arithmetic import OVERFLOWS, ROUNDINGS
from spikec.runtime.counters import COUNTERS
from spikec.runtime.engine import engine_module
from spikec.runtime.fanout import TOTAL_COLUMNS
from spikec.runtime.program import KERNELS, PROJECTION_KINDS, RESETS


def _prefixed(prefix: str) -> Callable[[str], str]:
    return lambda name: prefix + name.upper()


# Each Python tuple, and the C constant each of its names stands for.
MIRRORS: dict[str, tuple[tuple[str, ...], Callable[[str], str]]] = {
    "KERNELS": (KERNELS, _prefixed("SK_")),                 # SK_INPUT, SK_PASS, SK_CUBA_FLOAT, ...
    "RESETS": (RESETS, _prefixed("SK_RESET_")),
    "PROJECTION_KINDS": (PROJECTION_KINDS, _prefixed("SK_")),
    "ROUNDINGS": (ROUNDINGS, _prefixed("SK_ROUND_")),
    "OVERFLOWS": (OVERFLOWS, _prefixed("SK_")),             # SK_SATURATE, SK_WRAP, SK_LAVA_WRAP
    "COUNTERS": (COUNTERS, _prefixed("SK_C_")),
    "TOTAL_COLUMNS": (TOTAL_COLUMNS, lambda name: "SK_F_" + name.upper().replace("HOPS_", "H")),  # SK_F_HX, ...
}
# Constants that are a count, not a name: the width of the counter and fan-out rows.
COUNTS = {"SK_NCOUNTERS": COUNTERS, "SK_NFAN": TOTAL_COLUMNS}


@pytest.fixture(scope="module")
def lib():
    return engine_module().lib


def _c_constants(lib) -> dict[str, int]:
    return {name: getattr(lib, name) for name in dir(lib) if name.startswith("SK_")}


@pytest.mark.parametrize("mirror", MIRRORS)
def test_each_python_name_sits_at_its_c_value(lib, mirror: str) -> None:
    names, c_name = MIRRORS[mirror]
    c = _c_constants(lib)
    missing = [c_name(n) for n in names if c_name(n) not in c]
    assert not missing, f"{mirror}: engine.h defines no {missing}"
    assert {n: c[c_name(n)] for n in names} == {n: i for i, n in enumerate(names)}, \
        f"{mirror} is not in the C order: reorder it as csrc/engine.h numbers {[c_name(n) for n in names]}"


@pytest.mark.parametrize("count", COUNTS)
def test_row_widths_agree(lib, count: str) -> None:
    assert getattr(lib, count) == len(COUNTS[count])


def test_every_c_constant_has_its_python_name(lib) -> None:
    """A constant added to engine.h without its Python name fails here, not in a run."""
    named = {c_name(n) for names, c_name in MIRRORS.values() for n in names} | set(COUNTS)
    assert sorted(set(_c_constants(lib)) - named) == []


def test_counter_order_is_the_c_order(lib) -> None:
    c = _c_constants(lib)
    by_value = sorted((v, k) for k, v in c.items() if k.startswith("SK_C_"))
    assert [k.removeprefix("SK_C_").lower() for _, k in by_value] == list(COUNTERS)
    assert [v for v, _ in by_value] == list(range(lib.SK_NCOUNTERS))
