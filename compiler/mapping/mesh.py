"""Geometry of the target: how many chips of ``mesh_x x mesh_y`` cores a mapping needs, the
grid they form (tiled side by side along x), and the generalised Hilbert curve over it
along which placement lays its cores (consecutive slots are one hop apart).
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import ResourceLimitError
from ...hardware import HardwareSpec
from .net import _IDX, _limit


def chips_needed(n_cores: int, spec: HardwareSpec) -> int:
    """Chips of ``mesh_x x mesh_y`` cores needed for ``n_cores`` (1 when the mesh is unlimited)."""
    mx, my = _limit(spec, "mesh_x"), _limit(spec, "mesh_y")
    if mx is None or my is None:
        return 1
    per = mx * my
    if per == 0:
        raise ResourceLimitError("the mesh has no cores", parameter="mesh_x", limit=f"{mx} x {my}")
    return max(1, math.ceil(n_cores / per))


def _grid(n_cores: int, spec: HardwareSpec) -> tuple[int, int, int, int]:
    """(chips, mesh width per chip, mesh height, total width)."""
    mx, my = _limit(spec, "mesh_x"), _limit(spec, "mesh_y")
    chips = chips_needed(n_cores, spec)
    limit = _limit(spec, "chips")
    if limit is not None and chips > limit:
        raise ResourceLimitError(
            f"needs {n_cores} cores = {chips} chips of {mx} x {my}, more than the target has", parameter="chips",
            limit=f"{limit} ({spec.chips.source})",
            fix=f"the smallest system that fits has {chips} chips: compile for chips >= {chips}, or shrink the network")
    if mx is not None and my is not None:
        return chips, mx, my, chips * mx
    if mx is not None:
        return 1, mx, max(1, math.ceil(n_cores / mx)), mx
    if my is not None:
        w = max(1, math.ceil(n_cores / my))
        return 1, w, my, w
    w = max(1, math.ceil(math.sqrt(n_cores)))
    return 1, w, max(1, math.ceil(n_cores / w)), w


def _gilbert(w: int, h: int) -> np.ndarray:
    """Generalised Hilbert curve over a w x h rectangle: (w*h, 2) coordinates, each step one hop."""
    out: list[tuple[int, int]] = []

    def sgn(v: int) -> int:
        return (v > 0) - (v < 0)

    def rec(x: int, y: int, ax: int, ay: int, bx: int, by: int) -> None:
        ww, hh = abs(ax + ay), abs(bx + by)
        dax, day, dbx, dby = sgn(ax), sgn(ay), sgn(bx), sgn(by)
        if hh == 1:
            for _ in range(ww):
                out.append((x, y))
                x, y = x + dax, y + day
            return
        if ww == 1:
            for _ in range(hh):
                out.append((x, y))
                x, y = x + dbx, y + dby
            return
        ax2, ay2, bx2, by2 = ax // 2, ay // 2, bx // 2, by // 2
        w2, h2 = abs(ax2 + ay2), abs(bx2 + by2)
        if 2 * ww > 3 * hh:
            if w2 % 2 and ww > 2:
                ax2, ay2 = ax2 + dax, ay2 + day
            rec(x, y, ax2, ay2, bx, by)
            rec(x + ax2, y + ay2, ax - ax2, ay - ay2, bx, by)
        else:
            if h2 % 2 and hh > 2:
                bx2, by2 = bx2 + dbx, by2 + dby
            rec(x, y, bx2, by2, ax2, ay2)
            rec(x + bx2, y + by2, ax, ay, bx - bx2, by - by2)
            rec(x + (ax - dax) + (bx2 - dbx), y + (ay - day) + (by2 - dby), -bx2, -by2, -(ax - ax2), -(ay - ay2))

    if w >= h:
        rec(0, 0, w, 0, 0, h)
    else:
        rec(0, 0, 0, h, w, 0)
    return np.array(out, _IDX).reshape(-1, 2)


def _slot_index(xy: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """Index in ``slots`` of each core's place."""
    width = int(max(slots[:, 0].max(), xy[:, 0].max())) + 1
    lookup = np.full(width * (int(max(slots[:, 1].max(), xy[:, 1].max())) + 1), -1, _IDX)
    lookup[slots[:, 0] + width * slots[:, 1]] = np.arange(slots.shape[0])
    pos = lookup[xy[:, 0] + width * xy[:, 1]]
    if np.any(pos < 0):
        raise ResourceLimitError("a core sits outside the chips' meshes", parameter="core_xy",
                                 fix="place the program with place() for this spec first")
    return pos
