"""The ``crossbar`` projection kind: a resistive crossbar's analog matrix-vector product.

Storage is a dense ``weight`` (n_target, n_source) of *programmed* conductance differences in
weight units (floats in either arithmetic: programming noise, drift, stuck devices and IR drop
are already in them), plus ``geometry`` holding the periphery the engine emulates each step:

- ``tile_rows``, ``tile_cols``: a tile is ``tile_rows`` source rows by the target neurons one core
  holds (at most ``tile_cols``); the shared mapping's ``core_of`` decides the column groups;
- ``in_bits``, ``in_lsb``: the DAC, sign-magnitude, bit-serial (one tile read per bit plane);
- ``adc_bits``, ``adc_lsb``: the ADC per column, signed, codes ``+-(2**(adc_bits-1) - 1)``;
- ``read_sigma``: read noise of one device read, in weight units (0: none);
- ``seed``: the counter-based RNG's key (runs are reproducible and independent of threads).

The kernel's arithmetic is in csrc/engine.c (``xb_mvm``).  In a fixed-point program ``in_lsb``
and ``adc_lsb`` are whole numbers, so every term the periphery adds is an integer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ProgramError

__all__ = ["SETTINGS", "checked_crossbar", "ColumnGroups", "column_groups", "tile_count"]

# name -> (type, low, high): the settings a crossbar projection carries, and their ranges.
SETTINGS: dict[str, tuple[type, float, float]] = {
    "tile_rows": (int, 1, 1 << 20),
    "tile_cols": (int, 1, 1 << 20),
    "in_bits": (int, 1, 16),
    "in_lsb": (float, 0.0, 1e300),
    "adc_bits": (int, 2, 48),
    "adc_lsb": (float, 0.0, 1e300),
    "read_sigma": (float, 0.0, 1e300),
    "seed": (int, 0, (1 << 63) - 1),
}
_POSITIVE = ("in_lsb", "adc_lsb")


def checked_crossbar(j: Any, weight: np.ndarray, delay: np.ndarray | None, src: Any, dst: Any,
                     fixed: bool) -> dict[str, Any]:
    """The checked settings of crossbar projection ``j`` (see the module docstring)."""
    where = j.name
    if weight.shape != (dst.size, src.size):
        raise ProgramError(f"has shape {weight.shape}, expected (target {dst.size}, source {src.size})", node=where,
                           parameter="weight")
    if delay is not None:
        raise ProgramError("a crossbar carries no per-synapse delays", node=where, parameter="delay",
                           fix="use delay_base (the tile is read once per step)")
    given = dict(j.geometry)
    unknown, missing = set(given) - set(SETTINGS), set(SETTINGS) - set(given)
    if unknown or missing:
        raise ProgramError(f"settings unknown {sorted(unknown)}, missing {sorted(missing)}", node=where,
                           parameter="geometry", fix=f"give exactly {sorted(SETTINGS)}")
    out: dict[str, Any] = {}
    for key, (kind, low, high) in SETTINGS.items():
        value = given[key]
        ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
        ok = ok and math.isfinite(float(value)) and (kind is float or float(value) == int(value))
        if not ok:
            raise ProgramError(f"{key}={value!r} is not a finite {kind.__name__}", node=where, parameter=key)
        value = kind(value)
        if not low <= value <= high or (key in _POSITIVE and value <= 0):
            raise ProgramError(f"{key}={value} is out of range", node=where, parameter=key,
                               limit=f"{'0 <' if key in _POSITIVE else f'{low} <='} {key} <= {high:g}")
        if fixed and key in _POSITIVE and value != int(value):
            raise ProgramError(f"{key}={value} in a fixed-point program", node=where, parameter=key,
                               limit="a whole number", fix="a fixed-point crossbar converts in integer LSBs")
        out[key] = value
    # The periphery's largest output per step must stay an exact integer in a double (2**53).
    n_blocks = -(-src.size // out["tile_rows"])
    peak = n_blocks * (2.0 ** out["in_bits"]) * (2.0 ** (out["adc_bits"] - 1)) * out["adc_lsb"] * out["in_lsb"]
    if peak >= 2.0**52:
        raise ProgramError(f"its periphery can add up to {peak:.3g} per step", node=where, parameter="adc_bits",
                           limit="< 2**52 (exact in the engine's double accumulation)",
                           fix="use fewer ADC or DAC bits, or a smaller LSB")
    return {"geometry": out}


@dataclass(frozen=True)
class ColumnGroups:
    """How a crossbar's target neurons fall on cores: ``group[j]`` of each target neuron, and
    per group its core and its number of neurons (tile columns)."""

    group: np.ndarray
    core: np.ndarray
    cols: np.ndarray

    @property
    def n(self) -> int:
        return int(self.core.size)


def column_groups(core_of_target: np.ndarray, tile_cols: int, *, where: str) -> ColumnGroups:
    """Column groups from the target population's slice of ``core_of`` (first-seen core order):
    one tile column per target neuron, as the shared mapping placed them."""
    cores, first, group = np.unique(core_of_target, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    group = rank[group.reshape(-1)]
    cols = np.bincount(group, minlength=order.size)
    if cols.size and cols.max() > tile_cols:
        raise ProgramError(f"core {int(cores[order][np.argmax(cols)])} holds {int(cols.max())} of its target "
                           f"neurons, more than a tile's {tile_cols} columns", node=where, parameter="core_of",
                           limit=f"<= {tile_cols} target neurons per core",
                           fix="map with neurons_per_core <= the tile's columns (the reram target does)")
    return ColumnGroups(group.astype(np.int32), cores[order].astype(np.int32), cols.astype(np.int32))


def tile_count(n_source: int, tile_rows: int, groups: int) -> int:
    """Tiles of a crossbar projection: source row blocks x column groups."""
    return -(-n_source // tile_rows) * groups
