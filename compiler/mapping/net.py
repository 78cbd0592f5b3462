"""What every mapping stage starts from and returns: the network as flat synapse pairs
(:class:`_Net`, built once per mapping and shared by the stages), the per-unit event rates,
the spec's per-core limits, and :class:`MappingResult`.

Every set of distinct pairs is made by sorting packed int64 keys (:func:`_uniq`): numpy's
``np.unique`` is several times slower at the sizes mapped here (10^8 synapses).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

import numpy as np

from ...errors import ResourceLimitError
from ...hardware import HardwareSpec
from ...runtime.fanout import synapse_coo
from ...runtime.program import Program
from ..passes.base import PassRecord

LIMITS = ("neurons_per_core", "synapses_per_core", "fan_in_per_core", "fan_out_per_core")
_IDX = np.int64


@dataclass(frozen=True)
class MappingResult:
    """The program with its new ``core_of`` / ``core_xy`` and the record of the mapping."""

    program: Program
    record: PassRecord


def _ptr(sorted_idx: np.ndarray, n: int) -> np.ndarray:
    """CSR row pointers of a sorted row-index array."""
    ptr = np.zeros(n + 1, _IDX)
    np.cumsum(np.bincount(sorted_idx, minlength=n), out=ptr[1:])
    return ptr


@dataclass(frozen=True)
class _Net:
    """Every non-zero synapse as a global (source, target) pair, deduplicated, plus per-unit
    synapse counts (repeated pairs count as several synapses of memory)."""

    n: int
    src: np.ndarray        # unique (src, dst) pairs, sorted by src then dst
    dst: np.ndarray
    insyn: np.ndarray      # non-zero synapses targeting each unit
    names: tuple[str, ...] = ()
    offsets: np.ndarray = field(default_factory=lambda: np.zeros(1, _IDX))

    def unit_name(self, i: int) -> str:
        k = int(np.searchsorted(self.offsets, i, side="right") - 1)
        return f"{self.names[k]}[{i - int(self.offsets[k])}]"

    @cached_property
    def out_ptr(self) -> np.ndarray:
        """Pairs of unit i: ``out_ptr[i]:out_ptr[i+1]`` (the pairs are sorted by source)."""
        return _ptr(self.src, self.n)

    @cached_property
    def in_csr(self) -> tuple[np.ndarray, np.ndarray]:
        """(pointers, sources) of the pairs sorted by target: built on first use only (fan-in
        checks and unit moves need it), by one key sort."""
        key = self.dst * self.n
        key += self.src
        key.sort()
        dst, src = np.divmod(key, self.n)
        del key
        return _ptr(dst, self.n), src


def _net(program: Program) -> _Net:
    off = np.asarray(program.offsets, _IDX)
    n = int(off[-1])
    keys = []
    insyn = np.zeros(n, _IDX)
    for j in program.projections:
        s, t = program.index[j.source], program.index[j.target]
        src, dst, nz = synapse_coo(j, program.populations[s].size, program.populations[t].size)
        # one packed key per synapse, built in place (a projection may hold 10^8 synapses)
        key = np.asarray(src, _IDX)[nz]
        dst = np.asarray(dst, _IDX)[nz]
        dst += off[t]
        insyn += np.bincount(dst, minlength=n)
        key += off[s]
        key *= n
        key += dst
        del dst
        keys.append(key)
    key = (keys[0] if len(keys) == 1 else np.concatenate(keys)) if keys else np.zeros(0, _IDX)
    del keys
    key = _uniq(key, in_place=True)
    src, dst = np.divmod(key, n) if n else (key, key)
    return _Net(n, src, dst, insyn, tuple(p.name for p in program.populations), off)


def _rates(program: Program, rates: Any) -> np.ndarray:
    """Events per step of every unit: None (1 each), one array over all units, or a mapping
    population -> scalar or array (populations left out: 1)."""
    n = int(program.offsets[-1])
    if rates is None:
        return np.ones(n)
    if isinstance(rates, Mapping):
        out = np.ones(n)
        for name, r in rates.items():
            k = program.index.get(name)
            if k is None:
                raise ResourceLimitError(f"rates name population {name!r}, which does not exist", parameter="rates",
                                         fix=f"use names from {sorted(program.index)}")
            size = program.populations[k].size
            arr = np.broadcast_to(np.asarray(r, np.float64).reshape(-1) if np.ndim(r) else np.float64(r), (size,))
            out[program.offsets[k]: program.offsets[k] + size] = arr
    else:
        out = np.asarray(rates, np.float64).reshape(-1)
        if out.shape != (n,):
            raise ResourceLimitError(f"rates have {out.size} values for {n} units", parameter="rates",
                                     fix="give one rate per unit (in Program.offsets order) "
                                         "or a mapping per population")
    if not np.all(np.isfinite(out)) or np.any(out < 0):
        raise ResourceLimitError("rates must be finite and >= 0", parameter="rates")
    return out


def _uniq(a: np.ndarray, *, in_place: bool = False) -> np.ndarray:
    """Sorted distinct values (sort-based: numpy 2's hash-based np.unique is several times slower here)."""
    if in_place:
        a.sort()
    else:
        a = np.sort(a)
    if a.size < 2:
        return a
    keep = np.empty(a.size, bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def _limit(spec: HardwareSpec, name: str) -> int | None:
    v = spec.value(name)
    return None if v is None else int(v)
