r"""Crossbar geometry and circuit: weights onto tiles and conductance pairs, and IR drop.

**Tiles.**  A projection's weight matrix ``(n_target, n_source)`` sits on tiles of ``rows``
source rows by the target neurons the shared mapping put on one core (at most ``cols``): a
256 x 200 matrix on 128 x 128 tiles with 200 targets on two cores uses 2 x 2 = 4 tiles.

**Conductances.**  A signed integer weight ``w`` (|w| <= levels - 1) is a differential pair
``g+ = g_min + max(w, 0) dg``, ``g- = g_min + max(-w, 0) dg`` with ``dg = (g_max - g_min) / (levels - 1)``;
the column current difference is ``V (g+ - g-) = V w dg``.

**IR drop** (:func:`solve`).  The exact DC solution of one array with wire resistance ``r``
between neighbouring cells: word line *i* is driven at ``V_i`` through ``r`` at its left end and
open at its right; bit line *j* is open at its top and grounded (the sense amplifier's virtual
ground) through ``r`` below its last row.  Unknowns are the ``2 m n`` word- and bit-line node
voltages; Kirchhoff's current law at every node gives a sparse symmetric positive definite
system (5 non-zeros per row), solved by ``scipy.sparse.linalg.splu`` once per array for any
number of input vectors.  The output current of column *j* is ``b[m-1, j] / r``.  It agrees with
badcrossbar 1.1.0 (tests/targets/test_reram_irdrop.py), which models the same circuit.

The engine uses the solve through :func:`effective_conductance`: each cell's conductance is
replaced by its current under the all-rows-driven read divided by ``V_read``.  That is exact
for that input and an approximation for sparser ones (less current, less drop): its error is
measured, not assumed (:func:`approximation_error`; bench/reram.py prints it).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ...errors import UnsupportedError

__all__ = ["pair", "solve", "effective_conductance", "approximation_error", "row_blocks"]


def pair(w: np.ndarray, *, levels: int, g_min: float, g_max: float) -> tuple[np.ndarray, np.ndarray]:
    """Target conductances (g+, g-) of integer weights ``w`` (see the module docstring)."""
    w = np.asarray(w)
    if w.size and np.abs(w).max() > levels - 1:
        raise UnsupportedError(f"weight magnitude {int(np.abs(w).max())} needs more than {levels} levels",
                               parameter="weight_bits", limit=f"|w| <= {levels - 1}",
                               fix="quantize to log2(levels) + 1 signed bits")
    dg = (g_max - g_min) / (levels - 1)
    return g_min + np.maximum(w, 0) * dg, g_min + np.maximum(-w, 0) * dg


def row_blocks(n_rows: int, rows: int) -> list[slice]:
    """The source-row slices of a projection's tiles."""
    return [slice(r, min(r + rows, n_rows)) for r in range(0, n_rows, rows)]


def _system(g: np.ndarray, r: float) -> sp.csc_matrix:
    """Nodal conductance matrix of an (m, n) array: word nodes first, then bit nodes, row-major."""
    m, n = g.shape
    gw = 1.0 / r
    size = m * n
    idx = np.arange(size).reshape(m, n)
    rows, cols, vals = [], [], []

    def add(a: np.ndarray, b: np.ndarray, v: np.ndarray | float) -> None:
        v = np.broadcast_to(v, a.shape).reshape(-1)
        a, b = a.reshape(-1), b.reshape(-1)
        rows.extend((a, b, a, b))
        cols.extend((a, b, b, a))
        vals.extend((v, v, -v, -v))

    # A conductance between two nodes adds to both diagonals and subtracts off the diagonal.
    add(idx[:, :-1], idx[:, 1:], gw)                      # word-line segments
    add(size + idx[:-1, :], size + idx[1:, :], gw)        # bit-line segments
    add(idx, size + idx, g)                               # the cells
    diag = np.zeros(2 * size)
    diag[idx[:, 0]] += gw                                 # drivers (to V_i)
    diag[size + idx[-1, :]] += gw                         # sense ends (to ground)
    rows.append(np.arange(2 * size))
    cols.append(np.arange(2 * size))
    vals.append(diag)
    return sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(2 * size, 2 * size))


def solve(g: np.ndarray, v: np.ndarray, r: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact IR-drop solution of an array of conductances ``g`` (m, n) in S with wire resistance
    ``r`` (Ohm) for inputs ``v`` (m,) or (m, p) in V: (column output currents (p, n) in A, cell
    currents (p, m, n) in A)."""
    g = np.asarray(g, np.float64)
    if g.ndim != 2 or not g.size:
        raise UnsupportedError(f"conductance array of shape {g.shape}", parameter="g", limit="(rows, cols)")
    if not r > 0:
        raise UnsupportedError(f"wire resistance {r}", parameter="wire_ohm", limit="> 0 Ohm",
                               fix="turn IR drop off instead (--ir-drop false)")
    m, n = g.shape
    v = np.asarray(v, np.float64).reshape(m, -1)
    rhs = np.zeros((2 * m * n, v.shape[1]))
    rhs[np.arange(m) * n, :] = v / r
    x = spla.splu(_system(g, r)).solve(rhs)
    word = x[: m * n].T.reshape(-1, m, n)
    bit = x[m * n:].T.reshape(-1, m, n)
    return bit[:, -1, :] / r, g[None] * (word - bit)


def effective_conductance(g: np.ndarray, v_read: float, r: float) -> np.ndarray:
    """Per-cell conductance that the all-rows-driven read at ``v_read`` sees through IR drop."""
    _, cells = solve(g, np.full(g.shape[0], v_read), r)
    return cells[0] / v_read


def approximation_error(g: np.ndarray, v_read: float, r: float, active: float, trials: int,
                        rng: np.random.Generator) -> float:
    """Largest relative column-current error of the :func:`effective_conductance` model against
    the exact solve, over ``trials`` random inputs with a fraction ``active`` of rows at
    ``v_read`` (relative to the largest ideal column current of each input)."""
    g_eff = effective_conductance(g, v_read, r)
    v = (rng.random((g.shape[0], trials)) < active) * v_read
    exact, _ = solve(g, v, r)
    approx = v.T @ g_eff
    scale = np.maximum(np.abs(v.T @ g).max(axis=1, keepdims=True), 1e-300)
    return float((np.abs(exact - approx) / scale).max())
