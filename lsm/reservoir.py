r"""A liquid-state-machine reservoir as an ordinary spikec graph.

:func:`build_reservoir` returns a :class:`Reservoir`: its :class:`~spikec.ir.Graph` and what built
it.  The graph is five nodes,

``input -> w_in -> reservoir -> states``, and ``reservoir -> w_rec -> reservoir`` (a back edge:
the recurrent synapses deliver the previous step's spikes),

so every compiler pass, target and command works on it (``spikec info/compile/run`` on a graph
saved with ``--save-graph``).  ``states`` (an Output) carries the reservoir's spikes: a run on any
backend returns them without recording internals.

The population is LIF with decay :math:`\beta` per step and threshold :math:`v_{th}`:
:math:`v[t] = \beta v[t-1] + x[t]` (``tau = dt / (1 - decay)``, ``r = tau / dt``), spike when
:math:`v > v_{th}`, reset to 0; Lin et al. 2025 use :math:`\beta = 0.9`, :math:`v_{th} = 5`
(``run_lsm_gau_sim.sh`` of MrLinNing/MemristorLSM; only the ratio of weights to threshold matters,
and the tuning sets it).

Recurrent connectivity (no self-connections), one of

- ``"grid"``: Maass, Natschläger & Markram, "Real-time computing without stable states", Neural
  Computation 14 (2002): neurons on a 3-D integer grid (by default columns of 3 x 3, Maass's
  15 x 3 x 3 generalised to any size: the first ``n`` points of ``ceil(n/9) x 3 x 3``), a
  fraction ``excitatory`` (80 %) chosen at random, and :math:`P(i \to j) = C \exp(-(D(i,j)/\lambda)^2)`
  with :math:`\lambda = 2` and C by (pre, post) type: EE 0.3, EI 0.2, IE 0.4, II 0.1;
- ``"random"``: every ordered pair with probability ``p_recurrent``.

Input: every (input channel, neuron) pair with probability ``p_input``.  Weights come from the
distribution ``weights`` (:mod:`.weights`: normalised to unit root mean square).  With ``dale``
(default) a neuron's outgoing recurrent weights take its type's sign (magnitudes from the
distribution; inhibitory ones times ``inhibition``); without it, the signs are the distribution's
(Lin et al.'s signed Gaussian reservoir).  Input weights keep the distribution's signs.

Every weight is rounded to a multiple of ``resolution`` (a power of two, default 2^-10 of the
threshold): sums of such weights are exact in float64 whatever their order, so the reference
simulator and the C engine (which sum in different orders) give identical spikes, and the tuning
is repeatable.  Weights that round to zero stay in the graph as zero synapses (counted by
:attr:`Reservoir.zeroed`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import GraphValidationError
from ..ir import LIF, Graph, Input, Output, SparseLinear, make_population
from ..ir.limits import check_size
from ..targets.protocol import WeightSampler
from .weights import draw

__all__ = ["Reservoir", "build_reservoir", "MAASS_C", "INPUT", "W_IN", "RESERVOIR", "W_REC", "STATES"]

INPUT, W_IN, RESERVOIR, W_REC, STATES = "input", "w_in", "reservoir", "w_rec", "states"

#: Maass et al. 2002: connection scale C by (presynaptic, postsynaptic) type, E = excitatory.
MAASS_C = {("E", "E"): 0.3, ("E", "I"): 0.2, ("I", "E"): 0.4, ("I", "I"): 0.1}
MAASS_LAMBDA = 2.0
_CHUNK = 512  # rows of the pair-probability matrix drawn at a time (memory stays O(chunk * n))


@dataclass(frozen=True, eq=False)
class Reservoir:
    """A built reservoir: the graph and everything needed to rebuild it at another scale.

    ``rec_*``/``in_*`` are the synapses (source, target, unit weight: signed, before ``scale`` /
    ``input_scale`` and rounding); the graph holds ``round(unit * scale / resolution) * resolution``.
    """

    graph: Graph
    n_inputs: int
    n_neurons: int
    excitatory: np.ndarray
    positions: np.ndarray | None
    rec_source: np.ndarray
    rec_target: np.ndarray
    rec_unit: np.ndarray
    in_source: np.ndarray
    in_target: np.ndarray
    in_unit: np.ndarray
    scale: float
    input_scale: float
    resolution: float
    decay: float
    v_threshold: float
    topology: str
    seed: int
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # frozen means frozen: the arrays are read-only too
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    @property
    def recurrent_weights(self) -> np.ndarray:
        """The recurrent weights as the graph holds them."""
        return np.asarray(self.graph.nodes[W_REC].weight)  # type: ignore[attr-defined]

    @property
    def input_weights(self) -> np.ndarray:
        return np.asarray(self.graph.nodes[W_IN].weight)  # type: ignore[attr-defined]

    @property
    def zeroed(self) -> int:
        """Synapses whose weight rounded to zero at this scale."""
        return int(np.count_nonzero(self.recurrent_weights == 0) + np.count_nonzero(self.input_weights == 0))

    def with_scale(self, scale: float | None = None, input_scale: float | None = None) -> "Reservoir":
        """The same reservoir (same synapses, same unit weights) at another weight scale."""
        scale = self.scale if scale is None else _positive(scale, "scale", allow_zero=True)
        input_scale = self.input_scale if input_scale is None else _positive(input_scale, "input_scale")
        tau = float(self.graph.nodes[RESERVOIR].tau[0])  # type: ignore[attr-defined]
        graph = _graph(self, scale, input_scale, dt=self.graph.dt, tau=tau)
        return _replace(self, graph=graph, scale=scale, input_scale=input_scale)


def _replace(r: Reservoir, **changes: object) -> Reservoir:
    return dataclasses.replace(r, **changes)


def build_reservoir(n_inputs: int, n_neurons: int = 300, *, topology: str = "grid",
                    weights: str | WeightSampler = "gaussian", excitatory: float = 0.8, dale: bool = True,
                    inhibition: float = 1.0, p_recurrent: float = 0.03, p_input: float = 0.1,
                    grid: tuple[int, int, int] | None = None, lam: float = MAASS_LAMBDA,
                    scale: float = 0.5, input_scale: float = 0.5, decay: float = 0.9, v_threshold: float = 1.0,
                    resolution: float = 2.0 ** -10, dt: float = 1e-3, seed: int = 0) -> Reservoir:
    """Build a reservoir (see the module docstring for every parameter's meaning and source).

    ``scale`` multiplies the unit recurrent weights (:func:`~.branching.tune_branching` chooses it),
    ``input_scale`` the unit input weights.  The same ``seed`` gives the same reservoir."""
    n_inputs, n_neurons = _count(n_inputs, "n_inputs"), _count(n_neurons, "n_neurons")
    for name, value in (("excitatory", excitatory), ("p_recurrent", p_recurrent), ("p_input", p_input)):
        if not (isinstance(value, (int, float)) and 0 < value <= 1):
            raise GraphValidationError(f"{name}={value!r}", parameter=name, limit="0 < value <= 1",
                                       fix="a fraction (probability) above 0")
    if not (isinstance(decay, (int, float)) and 0 <= decay < 1):
        raise GraphValidationError(f"decay={decay!r}", parameter="decay", limit="0 <= decay < 1",
                                   fix="the membrane's leak factor per step, e.g. 0.9")
    _positive(v_threshold, "v_threshold")
    _positive(inhibition, "inhibition")
    _positive(lam, "lam")
    scale, input_scale = _positive(scale, "scale", allow_zero=True), _positive(input_scale, "input_scale")
    exponent = math.log2(resolution) if isinstance(resolution, (int, float)) and resolution > 0 else 0.5
    if exponent != int(exponent) or not -40 <= exponent <= 0:
        raise GraphValidationError(f"resolution={resolution!r}", parameter="resolution", limit="2^-40 .. 1",
                                   fix="a power of two (exact sums need dyadic weights), e.g. 2**-10")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise GraphValidationError(f"seed={seed!r}", parameter="seed", fix="a whole number >= 0")
    _check_memory(n_inputs, n_neurons, topology, p_recurrent, p_input, lam)
    rng = np.random.default_rng(int(seed))
    exc = np.zeros(n_neurons, bool)
    exc[rng.permutation(n_neurons)[:max(1, round(excitatory * n_neurons))]] = True
    if topology == "grid":
        positions = _grid_positions(n_neurons, grid)
        src, dst = _grid_pairs(rng, positions, exc, lam)
    elif topology == "random":
        positions = None
        src, dst = _random_pairs(rng, n_neurons, n_neurons, p_recurrent, no_self=True)
    else:
        raise GraphValidationError(f"unknown topology {topology!r}", parameter="topology",
                                   fix="use 'grid' (Maass 2002, distance-dependent) or 'random'")
    unit = draw(weights, rng, src.size)
    if dale:
        unit = np.abs(unit) * np.where(exc[src], 1.0, -float(inhibition))
    in_src, in_dst = _random_pairs(rng, n_inputs, n_neurons, p_input, no_self=False)
    in_unit = draw(weights, rng, in_src.size)
    notes = () if src.size else ("the reservoir has no recurrent synapses (too few neurons or too low p)",)
    tau = dt / (1.0 - decay) if decay > 0 else dt
    # The graph is built from the reservoir's own fields; a placeholder stands in until then.
    draft = Reservoir(graph=None, n_inputs=n_inputs, n_neurons=n_neurons, excitatory=exc,  # type: ignore[arg-type]
                      positions=positions, rec_source=src, rec_target=dst, rec_unit=unit, in_source=in_src,
                      in_target=in_dst, in_unit=in_unit, scale=scale, input_scale=input_scale,
                      resolution=float(resolution), decay=float(decay), v_threshold=float(v_threshold),
                      topology=topology, seed=int(seed), notes=notes)
    graph = _graph(draft, scale, input_scale, dt=dt, tau=tau)
    return _replace(draft, graph=graph)


def _graph(r: Reservoir, scale: float, input_scale: float, *, dt: float, tau: float) -> Graph:
    """The graph of ``r``'s synapses at ``scale`` / ``input_scale`` (``r.graph`` is not read)."""
    n, m = r.n_neurons, r.n_inputs
    population = make_population(LIF, n, tau=tau, r=tau / dt, v_threshold=r.v_threshold, v_reset=0.0)
    nodes = {
        INPUT: Input((m,)),
        W_IN: SparseLinear((n, m), r.in_target, r.in_source, _rounded(r.in_unit * input_scale, r.resolution)),
        RESERVOIR: population,
        W_REC: SparseLinear((n, n), r.rec_target, r.rec_source, _rounded(r.rec_unit * scale, r.resolution)),
        STATES: Output(),
    }
    edges = [(INPUT, W_IN), (W_IN, RESERVOIR), (RESERVOIR, W_REC), (W_REC, RESERVOIR), (RESERVOIR, STATES)]
    meta = {"spikec.lsm": f"{r.topology} reservoir, seed {r.seed}, scale {scale:g}, input scale {input_scale:g}"}
    return Graph(nodes, edges, dt=dt, metadata=meta)


def _rounded(w: np.ndarray, resolution: float) -> np.ndarray:
    return np.round(w / resolution) * resolution


def _grid_positions(n: int, grid: tuple[int, int, int] | None) -> np.ndarray:
    if grid is None:
        grid = (math.ceil(n / 9), 3, 3)
    dims = tuple(int(d) for d in grid)
    if len(dims) != 3 or min(dims) < 1 or math.prod(dims) < n:
        raise GraphValidationError(f"grid {grid} holds {math.prod(dims) if len(dims) == 3 else 0} points for "
                                   f"{n} neurons", parameter="grid", fix="three sizes >= 1 whose product >= n_neurons")
    points = np.stack(np.meshgrid(*(np.arange(d) for d in dims), indexing="ij"), axis=-1).reshape(-1, 3)
    return points[:n].astype(np.float64)


def _grid_pairs(rng: np.random.Generator, pos: np.ndarray, exc: np.ndarray, lam: float) -> tuple[np.ndarray, ...]:
    kind = np.where(exc, 0, 1)
    c = np.array([[MAASS_C[("E", "E")], MAASS_C[("E", "I")]], [MAASS_C[("I", "E")], MAASS_C[("I", "I")]]])
    sources, targets = [], []
    for lo in range(0, len(pos), _CHUNK):
        rows = np.arange(lo, min(lo + _CHUNK, len(pos)))
        d2 = ((pos[rows, None, :] - pos[None, :, :]) ** 2).sum(-1)
        p = c[kind[rows][:, None], kind[None, :]] * np.exp(-d2 / lam ** 2)
        p[np.arange(rows.size), rows] = 0.0
        i, j = np.nonzero(rng.random(p.shape) < p)
        sources.append(rows[i])
        targets.append(j)
    return np.concatenate(sources).astype(np.int64), np.concatenate(targets).astype(np.int64)


def _random_pairs(rng: np.random.Generator, n_src: int, n_dst: int, p: float,
                  *, no_self: bool) -> tuple[np.ndarray, np.ndarray]:
    sources, targets = [], []
    for lo in range(0, n_src, _CHUNK):
        rows = np.arange(lo, min(lo + _CHUNK, n_src))
        hit = rng.random((rows.size, n_dst)) < p
        if no_self:
            hit[np.arange(rows.size), rows] = False
        i, j = np.nonzero(hit)
        sources.append(rows[i])
        targets.append(j)
    return np.concatenate(sources).astype(np.int64), np.concatenate(targets).astype(np.int64)


def _check_memory(n_inputs: int, n_neurons: int, topology: str, p_recurrent: float, p_input: float,
                  lam: float) -> None:
    """Refuse before drawing what the pair draws would allocate above the limit: a chunk of rows
    against every neuron (for the grid, its 3-D differences and probabilities too), and the
    expected synapses (source, target, weight: 24 bytes each).  On the unit grid a neuron's
    expected fan-out is at most max(C) times the Gaussian's volume, (pi lam^2)^(3/2)."""
    per_cell = 6 * 8 if topology == "grid" else 8
    working = min(_CHUNK, max(n_neurons, n_inputs)) * n_neurons * per_cell
    fan_out = n_neurons * p_recurrent if topology == "random" else max(MAASS_C.values()) * (math.pi * lam ** 2) ** 1.5
    expected = n_neurons * min(fan_out, n_neurons) + n_inputs * n_neurons * p_input
    check_size(f"a reservoir of {n_neurons:,} neurons ({topology} pairs drawn {_CHUNK} rows at a time, expected "
               f"synapses x 24 bytes)", int(working + 24 * expected), parameter="n_neurons",
               fix="build a smaller reservoir (a few hundred to a few thousand neurons is the usual size)")


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise GraphValidationError(f"{name}={value!r}", parameter=name, limit=">= 1", fix="a whole number >= 1")
    return int(value)


def _positive(value: object, name: str, *, allow_zero: bool = False) -> float:
    ok = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):  # type: ignore[operator]
        raise GraphValidationError(f"{name}={value!r}", parameter=name, limit=">= 0" if allow_zero else "> 0",
                                   fix=f"a finite number {'>= 0' if allow_zero else '> 0'}")
    return float(value)  # type: ignore[arg-type]
