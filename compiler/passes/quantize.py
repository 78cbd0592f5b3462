r"""quantize: a float graph becomes an integer graph of :class:`~spikec.ir.fixed.FixedCubaLIF`
populations and integer projections, within a :class:`~spikec.targets.spec.HardwareSpec`'s widths.

**Scales.**  Every population :math:`P` gets a scale :math:`S_P` (one number per layer, or with
``per_channel=True`` one per neuron of a 1-D population / per channel of a (C, ...) population)
such that its fixed membrane is :math:`v_{fix} \approx S_P\,v_{float}`.  A population's input is
the sum of all its incoming projections, so they all share :math:`S_P`.  The neuron's float gain
(:math:`R\Delta t/\tau`, times :math:`w_{in}\Delta t/\tau_{syn}` for current-based models; the
integer neuron has none: :math:`v \mathrel{+}= u`) and any AvgPool's :math:`1/area` on the path
are folded into the one weighted projection (Linear, Affine, SparseLinear, Conv, Scale) of each
path; a non-spiking source :math:`Q` (output :math:`S_Q v_Q`) divides it by :math:`S_Q`.  Then

.. math:: W_{eff} = W\,g_P\,f / S_{src}, \qquad m = \mathrm{round}(S_P W_{eff} / 2^{s}),
          \qquad \theta' = \mathrm{round}(S_P\theta),\; v_{reset}' , b' \text{ likewise}

with round half away from zero, :math:`d_u = \mathrm{round}(2^D\Delta t/\tau_{syn})` (:math:`2^D`
for models without a synaptic current, so :math:`u = x`), :math:`d_v = \mathrm{round}(2^D\Delta
t/\tau_{mem})` (0 for IF/Integrator), :math:`D` = ``spec.decay_bits``.

**Choosing S.**  :math:`S_P = \min(S_w, S_{cap})`: :math:`S_w = m_{max}/\max|W_{eff}|` fills the
signed weight mantissa (:math:`m_{max} = 2^{bits-1}-1`); :math:`S_{cap}` keeps thresholds,
resets (``threshold_bits``), neuron plus projection biases (``bias_bits``) and the largest one-step input
(:math:`\sum_j |W_{eff}|` times the source's largest value, ``state_bits`` minus one bit of
headroom) in range, so the chosen scale itself never saturates.  **Shared exponent**: when the
spec has ``weight_exponent_bits`` :math:`e > 0`, the population's ``input_shift`` :math:`s \in
[0, 2^{e-1}-1]` is the exponent shared by all its incoming weights (weight :math:`= m\,2^s`):
:math:`S_P = S_w 2^s` with the largest :math:`s` that stays under :math:`S_{cap}`, so mantissas
are unchanged while thresholds and the membrane get :math:`s` more bits (fewer rounding and
leak-truncation errors at low weight widths).

**Chip encodings.**  A spec's ``input_shift`` :math:`s_0` is a shift the chip always applies
(Loihi: 6): :math:`S_P = \min(S_w 2^{s_0}, S_{cap})` and the exponent above counts on top of it.
``threshold_shift`` puts thresholds and resets on a grid of :math:`2^{shift}` (an unsigned
mantissa of ``threshold_bits``; a negative threshold is refused); ``bias_exponent_bits`` encodes a
bias as a ``bias_bits`` mantissa times :math:`2^e` with the smallest :math:`e` that fits.  The spec's
``u_overflow`` is the current register's overflow rule and ``rounding`` the decays' rounding.

**Saturation is never silent.**  A value outside its width (only possible with a forced
``scales=`` entry) is clamped the way the chip's
saturating arithmetic would, and every clamp is counted per layer in the record
(``saturated``: weights, biases, thresholds).  At run time the membrane saturates and ``u``
wraps at ``state_bits`` (Lava's Loihi model); the input cap above keeps one step's input
inside ``u``.

**Calibration.**  With ``calibration`` inputs the scale above is only the starting point: per
population, in execution order, the candidates :math:`S_P 2^{k/4}` (k = -4..4) are tried and the
one whose spikes agree best with the float reference on those inputs is kept (ties: the default;
candidates that clamp are reported, and chosen only with ``calibration_saturation=True``);
see :mod:`spikec.compiler.passes.calibrate`.  Saturation of a chosen candidate is counted as below.

**Record** (one :class:`Change` per population): ``scale`` (float, or [min, max] per channel),
``input_shift``, ``max_weight_error`` (largest :math:`|W_{dequantized} - W|` in the float
graph's weight units), ``saturated``, ``limited_by``; with ``calibration`` inputs also
``spike_agreement`` (fraction of equal spikes, float reference vs fixed simulation) or, for
non-spiking populations, ``relative_error`` of :math:`v_{fix}/S` against :math:`v_{float}`, and
the summary ``output_agreement`` (fraction of samples decoded to the same class).

**Not supported** (an :class:`UnsupportedError` naming the node and the fix): MembraneBatchNorm
and BatchNorm (run fold_batchnorm first), already-fixed neurons, a path from a source to a
population with no weighted projection (e.g. Input → LIF; add a Linear/Scale) or with two
(merge them), a weighted projection or an AvgPool feeding several nodes or an Output directly,
and conv paths whose per-neuron factors are not constant per channel.  A non-spiking population
that feeds an Output keeps one scale (argmax decoding must not see per-channel scales), and a
per-channel request that a conv-fed flat population cannot honour falls back to per-layer; both
are said in the record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ...errors import UnsupportedError
from ...hardware import HardwareSpec
from ...ir.conv import AvgPool2d, SumPool2d
from ...ir.conv import ConvNd as _ConvNd
from ...ir.delay import Delay
from ...ir.fixed import FixedCubaLIF
from ...ir.graph import Graph
from ...ir.io import Input, Output
from ...ir.linear import Affine, Linear, Scale, SparseLinear
from ...ir.neurons import IF, Integrator, Neuron, Reset, Threshold
from ...ir.norm import BatchNorm, MembraneBatchNorm
from ...ir.reshape import Flatten
from .base import Change, PassRecord, PassResult, format_figure
from .calibrate import calibrate_scales, step_factor, step_shift

__all__ = ["quantize"]

_WEIGHTED = (Linear, Affine, SparseLinear, _ConvNd, Scale)
_PASSIVE = (Flatten, Delay, SumPool2d, AvgPool2d)  # integer-preserving (AvgPool after folding 1/area)
_DEFAULT_STATE_BITS = 32
_DEFAULT_DECAY_BITS = 12


class _Fallback(Exception):
    """A per-neuron array cannot be carried back through a path (not constant per channel)."""


def _round(x: np.ndarray) -> np.ndarray:
    """Round half away from zero (what a chip's rounding of a positive magnitude does).
    In place on one new array: at 10^8 synapses every temporary is 800 MB."""
    x = np.asarray(x, np.float64)
    out = np.abs(x)
    out += 0.5
    np.floor(out, out=out)
    return np.copysign(out, x, out=out)


def _max_dequant_error(m: np.ndarray, unit: float, s_syn: np.ndarray, k: np.ndarray, weight: np.ndarray,
                       chunk: int = 1 << 22) -> float:
    """Largest |m * unit / (s_syn * k) - weight| where k != 0, in chunks (no 800 MB temporaries)."""
    m, s_syn, k, weight = (np.broadcast_to(a, weight.shape).reshape(-1) for a in (m, s_syn, k, weight))
    worst = 0.0
    for lo in range(0, weight.size, chunk):
        sl = slice(lo, lo + chunk)
        kk = k[sl]
        with np.errstate(divide="ignore", invalid="ignore"):
            deq = np.where(kk != 0, m[sl] * unit / (s_syn[sl] * kk), 0.0)
        deq -= weight[sl]
        worst = max(worst, float(np.max(np.abs(deq), initial=0.0)))
    return worst


def _smax(bits: int) -> int:
    return (1 << (bits - 1)) - 1


@dataclass
class _Path:
    """One weighted projection feeding a population."""

    node: str
    after: list[str]            # passive nodes from the projection (exclusive) to the population, nearest first
    f_before: float             # AvgPool factors between the sources and the projection
    f_after: float              # AvgPool factors between the projection and the population
    in_scale: np.ndarray        # scale of the values the projection reads (its input shape)
    in_max: float               # largest magnitude of one input value (1 for spikes)
    w_eff: np.ndarray = field(default=None)   # W g f / in_scale, target-unscaled
    k: np.ndarray = field(default=None)       # w_eff / W (the fold factor), same shape
    b_eff: np.ndarray | None = None           # projection bias times g f_after
    row_index: np.ndarray = field(default=None)  # per weight entry: flat index into the projection's output


def _limits(spec: HardwareSpec, weight_bits: int | None) -> dict[str, int]:
    wb = weight_bits if weight_bits is not None else spec.value("weight_bits")
    if wb is None:
        raise UnsupportedError(
            f"the spec '{spec.name}' gives no weight width", parameter="weight_bits",
            fix="pass weight_bits=... or use a spec with weight_bits",
        )
    if not 2 <= int(wb) <= 32:
        raise UnsupportedError(f"weight_bits={wb} is out of range", parameter="weight_bits", limit="2..32")
    state = spec.value("state_bits") or _DEFAULT_STATE_BITS
    decay = spec.value("decay_bits") or _DEFAULT_DECAY_BITS
    thr = spec.value("threshold_bits") or state
    bias = spec.value("bias_bits") or state
    e = spec.value("weight_exponent_bits") or 0
    t_shift = spec.value("threshold_shift")
    b_exp = spec.value("bias_exponent_bits") or 0
    # A threshold_shift means the chip's threshold is an unsigned mantissa << shift (Loihi's vth).
    thr_max = _smax(min(thr, state)) if t_shift is None else min(((1 << thr) - 1) << t_shift, _smax(state))
    b_mant = _smax(min(bias, state))
    return {
        "weight_bits": int(wb), "w_max": _smax(int(wb)), "state_bits": int(state), "decay_bits": int(decay),
        "thr_max": thr_max, "thr_shift": int(t_shift or 0), "thr_unsigned": t_shift is not None,
        "bias_mant": b_mant, "bias_exp_max": (1 << b_exp) - 1 if b_exp else 0,
        "bias_max": min(b_mant << ((1 << b_exp) - 1 if b_exp else 0), _smax(state)), "state_max": _smax(state),
        "min_shift": int(spec.value("input_shift") or 0),
        "max_shift": min((1 << (e - 1)) - 1, 30) if e > 0 else 0,
        "u_overflow": spec.u_overflow, "rounding": spec.rounding,
    }


def _on_grid(q: np.ndarray, shift: int) -> np.ndarray:
    """Round to a multiple of ``2**shift`` (half away from zero)."""
    return _round(np.asarray(q, np.float64) / (1 << shift)) * (1 << shift) if shift else _round(q)


def _mant_exp(q: np.ndarray, mant_max: int, exp_max: int) -> np.ndarray:
    """Each value as mantissa << exponent (|mantissa| <= mant_max, 0 <= exponent <= exp_max),
    with the smallest exponent that fits: the chip's bias encoding."""
    q = np.asarray(q, np.float64)
    out = _round(q)
    for e in range(1, exp_max + 1):
        big = np.abs(_round(q / (1 << (e - 1)))) > mant_max
        out = np.where(big, _round(q / (1 << e)) * (1 << e), out)
    return out


def quantize(
    graph: Graph,
    spec: HardwareSpec,
    *,
    weight_bits: int | None = None,
    per_channel: bool = False,
    calibration: np.ndarray | Mapping[str, np.ndarray] | None = None,
    scales: Mapping[str, float | np.ndarray] | None = None,
    calibration_saturation: bool = False,
) -> PassResult:
    """Quantize ``graph`` to ``spec`` (see the module docstring).

    ``weight_bits`` overrides ``spec.weight_bits``; ``per_channel`` picks one scale per neuron
    or channel instead of one per population; ``calibration`` (input spikes ``(batch, time,
    *shape)``, or one array per Input) chooses each population's scale by spike agreement
    (:mod:`.calibrate`), reports float-vs-fixed agreement into the record and bounds the input
    magnitude; ``scales`` forces the scale of named populations (input_shift
    0; whatever no longer fits saturates and is counted); ``calibration_saturation`` lets
    calibration choose a scale that clamps (counted in the record; by default it never adds one).
    """
    lim = _limits(spec, weight_bits)
    scales = dict(scales or {})
    for name in scales:
        if name not in graph.nodes or not isinstance(graph.nodes[name], Neuron):
            raise UnsupportedError("scales= names a node that is not a neuron population", node=name)
    _check_supported(graph)
    in_max = _input_magnitudes(graph, calibration)

    def build(steps: Mapping[str, int]) -> tuple[Graph, dict[str, np.ndarray], list[Change]]:
        return _quantize_graph(graph, lim, per_channel, scales, in_max, steps)

    if calibration is None:
        out, pop_scale, changes = build({})
        calibrated: dict[str, Any] = {}
    else:  # calibration data chooses the scales (compiler/passes/calibrate.py)
        pops = [n for n in graph.order if isinstance(graph.nodes[n], Neuron)]
        out, pop_scale, changes, calibrated = calibrate_scales(graph, calibration, build, pops, fixed=scales,
                                                                allow_saturation=calibration_saturation)

    summary: dict[str, Any] = {
        "weight_bits": lim["weight_bits"],
        "per_channel": bool(per_channel),
        "state_bits": lim["state_bits"],
        "decay_bits": lim["decay_bits"],
        "saturated": sum(sum(c.figures["saturated"].values()) for c in changes),
        "max_weight_error": max((c.figures["max_weight_error"] for c in changes), default=0.0),
    }
    if calibration is not None:
        changes, extra = _agreement(graph, out, calibration, changes, pop_scale)
        summary.update(extra, **calibrated)
    return PassResult(out, PassRecord("quantize", tuple(changes), summary))


def _quantize_graph(graph: Graph, lim: Mapping[str, Any], per_channel: bool, scales: Mapping[str, Any],
                    in_max: Mapping[str, float],
                    steps: Mapping[str, int]) -> tuple[Graph, dict[str, np.ndarray], list[Change]]:
    """Every population at its scale (calibration step ``steps[name]``, 0 = the default scale):
    (the integer graph, per-neuron scale of each population, one Change per population)."""
    nodes: dict[str, Any] = dict(graph.nodes)
    pop_scale: dict[str, np.ndarray] = {}  # per-neuron scale of each population, in its shape
    changes: list[Change] = []
    claimed: dict[str, str] = {}  # weighted projection -> the population it feeds
    feeds_output = {p for o in graph.outputs for p in graph.predecessors(o)}
    for name in graph.order:
        node = graph.nodes[name]
        if not isinstance(node, Neuron):
            continue
        paths = _incoming(graph, name, pop_scale, in_max, claimed)
        force_layer = not node.spiking and name in feeds_output
        note = None
        try:
            new_pop, new_proj, scale, figures = _quantize_population(
                graph, name, node, paths, lim, per_channel and not force_layer, scales.get(name), steps.get(name, 0)
            )
        except _Fallback as exc:
            new_pop, new_proj, scale, figures = _quantize_population(graph, name, node, paths, lim, False,
                                                                     scales.get(name), steps.get(name, 0))
            note = f"one scale for the layer: a per-channel scale does not fit the shared weights of '{exc.args[0]}'"
        if per_channel and force_layer:
            note = "one scale for the layer: it is a non-spiking output, decoded by argmax"
        if note:
            figures["note"] = note
        nodes[name] = new_pop
        nodes.update(new_proj)
        pop_scale[name] = scale
        what = (f"{node.kind} -> FixedCubaLIF, scale {format_figure(figures['scale'])}, input_shift "
                f"{figures['input_shift']}, max weight error {figures['max_weight_error']:.3g}, "
                f"saturated {sum(figures['saturated'].values())}")
        changes.append(Change(name, what, figures))
    for name, node in graph.nodes.items():
        if isinstance(node, AvgPool2d):
            nodes[name] = SumPool2d(kernel_size=node.kernel_size, stride=node.stride, padding=node.padding)
    return graph.replace(nodes=nodes), pop_scale, changes


# --- what can be quantized ------------------------------------------------------------------


def _check_supported(graph: Graph) -> None:
    for name, node in graph.nodes.items():
        if isinstance(node, MembraneBatchNorm):
            raise UnsupportedError(
                "a MembraneBatchNorm has no integer form", node=name,
                fix="run fold_batchnorm first (it turns it into per-neuron thresholds)",
            )
        if isinstance(node, BatchNorm):
            raise UnsupportedError(
                "a BatchNorm is left in the graph", node=name,
                fix="run fold_batchnorm first; a BatchNorm it cannot fold must be removed or folded by hand",
            )
        if isinstance(node, FixedCubaLIF):
            raise UnsupportedError("the graph is already (partly) fixed-point", node=name,
                                   fix="quantize the float graph")
        if not isinstance(node, (Input, Output, Neuron) + _WEIGHTED + _PASSIVE):
            raise UnsupportedError(f"quantize has no rule for {node.kind}", node=name)
    for out in graph.outputs:
        for p in graph.predecessors(out):
            if not isinstance(graph.nodes[p], (Input, Neuron)):
                raise UnsupportedError(
                    f"the output reads '{p}', a {graph.nodes[p].kind}, whose float scale an integer graph cannot keep",
                    node=out, fix="end the graph with a population (e.g. an LI or Integrator readout)",
                )


def _input_magnitudes(graph: Graph, calibration: Any) -> dict[str, float]:
    if calibration is None:
        return {n: 1.0 for n in graph.inputs}
    data = calibration if isinstance(calibration, Mapping) else {graph.inputs[0]: calibration}
    return {n: float(np.max(np.abs(np.asarray(data[n], np.float64)), initial=0.0)) or 1.0 for n in graph.inputs}


def _incoming(graph: Graph, pop: str, pop_scale: Mapping[str, np.ndarray], in_max: Mapping[str, float],
              claimed: dict[str, str]) -> list[_Path]:
    """The weighted projections feeding ``pop``, with their exclusive passive chains."""
    paths: list[_Path] = []
    stack: list[tuple[str, list[str], float]] = [(p, [], 1.0) for p in graph.predecessors(pop)]
    while stack:
        n, after, f = stack.pop()
        node = graph.nodes[n]
        if isinstance(node, (Input, Neuron)):
            raise UnsupportedError(
                f"receives '{n}' through no weighted projection, so its input cannot be scaled",
                node=pop, fix=f"put a Linear or Scale between '{n}' and '{pop}'",
            )
        if len(graph.successors(n)) != 1:
            raise UnsupportedError(
                f"feeds {len(graph.successors(n))} nodes; "
                "quantize gives each projection the scale of the one population it feeds",
                node=n, fix="give each population its own projection (copy the weights)",
            )
        if isinstance(node, _WEIGHTED):
            if n in claimed:
                raise UnsupportedError("is reached twice on the way to a population", node=n)
            claimed[n] = pop
            s, fb, m = _source_scale(graph, n, pop_scale, in_max, top=True)
            paths.append(_Path(n, after, fb, f, s, m))
            continue
        if isinstance(node, AvgPool2d):
            f = f / float(np.prod(node.kernel_size))
        stack += [(p, [n] + after, f) for p in graph.predecessors(n)]
    return paths


def _source_scale(graph: Graph, n: str, pop_scale: Mapping[str, np.ndarray], in_max: Mapping[str, float],
                  top: bool = False) -> tuple[np.ndarray, float, float]:
    """(scale of the values ``n`` reads, AvgPool factor, largest input magnitude) for a weighted
    node (``top``), or of what a passive node/source outputs."""
    node = graph.nodes[n]
    shape = graph.out_shape(n)
    if not top:
        if isinstance(node, Input):
            return np.ones(shape), 1.0, in_max[n]
        if isinstance(node, Neuron):
            if node.spiking:
                return np.ones(shape), 1.0, 1.0
            if n not in pop_scale:
                raise UnsupportedError(
                    "is a non-spiking population read back through a recurrent edge before it is quantized",
                    node=n, fix="quantize graphs whose non-spiking populations feed forward only",
                )
            return pop_scale[n], 1.0, math.inf
        if isinstance(node, _WEIGHTED):
            raise UnsupportedError(
                "feeds another weighted projection with no population between them; both cannot be integer",
                node=n, fix="merge the two projections into one",
            )
    parts = [_source_scale(graph, p, pop_scale, in_max) for p in graph.predecessors(n)]
    s, f, m = parts[0]
    for s2, f2, m2 in parts[1:]:
        if s2.shape != s.shape or not np.allclose(s2, s) or not math.isclose(f, f2):
            raise UnsupportedError("sums inputs of different scales", node=n,
                                   fix="feed it from populations of one kind (all spiking)")
        m = m + m2
    if top:
        return s, f, m
    if isinstance(node, (SumPool2d, AvgPool2d)):
        if not np.allclose(s, s.flat[0]):
            raise UnsupportedError("pools values of different scales", node=n,
                                   fix="quantize without per_channel for the population feeding it")
        area = float(np.prod(node.kernel_size))
        return np.full(shape, s.flat[0]), f / area if isinstance(node, AvgPool2d) else f, m * area
    return s.reshape(shape), f, m  # Flatten reshapes, Delay keeps the shape


def _to_projection(graph: Graph, arr: np.ndarray, path: _Path) -> np.ndarray:
    """A per-neuron array of the population carried back to the projection's output shape."""
    for n in path.after[::-1]:  # from the population back towards the projection
        node = graph.nodes[n]
        in_shape = graph.in_shape(n)
        if isinstance(node, (SumPool2d, AvgPool2d)):
            per_c = arr.reshape(arr.shape[0], -1)
            if not np.all(per_c == per_c[:, :1]):
                raise _Fallback(n)
            arr = np.broadcast_to(per_c[:, :1].reshape((-1,) + (1,) * (len(in_shape) - 1)), in_shape)
        else:
            arr = arr.reshape(in_shape)
    return np.asarray(arr, np.float64)


def _to_population(graph: Graph, arr: np.ndarray, path: _Path) -> np.ndarray:
    """A per-output array of the projection carried forward to the population (max over pools)."""
    for n in path.after:
        node = graph.nodes[n]
        shape = graph.out_shape(n)
        if isinstance(node, (SumPool2d, AvgPool2d)):
            arr = np.broadcast_to(arr.reshape(arr.shape[0], -1).max(axis=1).reshape((-1,) + (1,) * (len(shape) - 1)),
                                  shape)
        else:
            arr = arr.reshape(shape)
    return np.asarray(arr, np.float64)


# --- one population -------------------------------------------------------------------------


def _neuron_terms(node: Neuron, dt: float, D: int) -> dict[str, Any]:
    unity = 1 << D
    shape = node.shape
    if isinstance(node, Threshold):  # stateless: v = u each step, u = x
        return {"gain": np.ones(shape), "du": np.full(shape, unity), "dv": np.full(shape, unity),
                "bias": np.zeros(shape), "thr": node.threshold, "v_reset": np.zeros(shape), "reset": Reset.NONE,
                "alpha_syn": None}
    c = node.coefficients(dt)
    gain = c["gain"] * c.get("gain_syn", 1.0)
    du = _round(unity * (1.0 - c["alpha_syn"])) if "alpha_syn" in c else np.full(shape, unity)
    dv = np.zeros(shape) if isinstance(node, (IF, Integrator)) else _round(unity * (1.0 - c["alpha"]))
    spiking = node.spiking
    return {
        "gain": gain, "du": np.clip(du, 0, unity), "dv": np.clip(dv, 0, unity), "bias": c["bias"],
        "thr": node.v_threshold if spiking else np.zeros(shape),
        "v_reset": node.v_reset if spiking else np.zeros(shape),
        "reset": node.reset if spiking else Reset.NONE,
        "alpha_syn": c.get("alpha_syn"),
    }


def _fold(graph: Graph, path: _Path, gain_pop: np.ndarray) -> None:
    """Fill ``path.w_eff``/``k``/``b_eff``/``row_index`` from the population's per-neuron gain."""
    node = graph.nodes[path.node]
    g = _to_projection(graph, gain_pop, path)
    s_in = path.in_scale
    f = path.f_before * path.f_after
    if isinstance(node, (Linear, Affine)):
        k = g[:, None] * f / s_in.reshape(1, -1)
        path.row_index = np.broadcast_to(np.arange(node.weight.shape[0])[:, None], node.weight.shape)
    elif isinstance(node, SparseLinear):
        k = g[node.target] * f / s_in.reshape(-1)[node.source]
        path.row_index = node.target
    elif isinstance(node, Scale):
        k = g * f / s_in.reshape(g.shape)
        path.row_index = np.arange(g.size).reshape(g.shape)
    else:  # convolution: one factor per output channel, one source scale per input channel
        per_c = g.reshape(g.shape[0], -1)
        if not np.all(per_c == per_c[:, :1]):
            raise _Fallback(path.node)
        gc = per_c[:, 0]
        sc = s_in.reshape(s_in.shape[0], -1)
        if not np.allclose(sc, sc[:, :1]):
            raise UnsupportedError("reads values whose scale varies within a channel", node=path.node,
                                   fix="quantize the population feeding it without per_channel")
        cout, cin_g = node.weight.shape[:2]
        group = np.arange(cout) // (cout // node.groups)
        src_c = group[:, None] * cin_g + np.arange(cin_g)[None, :]
        k2 = gc[:, None] * f / sc[src_c, 0]
        k = np.broadcast_to(k2.reshape(k2.shape + (1,) * (node.weight.ndim - 2)), node.weight.shape)
        # row_index: the output channel, broadcast over the output positions later
        path.row_index = np.broadcast_to(
            np.arange(cout).reshape((-1,) + (1,) * (node.weight.ndim - 1)), node.weight.shape)
    weight = node.scale if isinstance(node, Scale) else node.weight
    path.k = np.asarray(k, np.float64)
    path.w_eff = weight * path.k
    bias = getattr(node, "bias", None)
    if bias is not None:
        gb = g if not isinstance(node, _ConvNd) else g.reshape(g.shape[0], -1)[:, 0]
        path.b_eff = bias * gb * path.f_after


def _row_stat(graph: Graph, path: _Path, values: np.ndarray, how: str) -> np.ndarray:
    """Per output element of the projection: max (``how='max'``) or sum of ``values`` over its synapses."""
    node = graph.nodes[path.node]
    out_shape = graph.out_shape(path.node)
    if isinstance(node, _ConvNd):
        per_c = values.reshape(values.shape[0], -1)
        r = per_c.max(axis=1) if how == "max" else per_c.sum(axis=1)
        return np.broadcast_to(r.reshape((-1,) + (1,) * (len(out_shape) - 1)), out_shape)
    flat = np.zeros(int(np.prod(out_shape)))
    idx = np.asarray(path.row_index).reshape(-1)
    if how == "max":
        np.maximum.at(flat, idx, values.reshape(-1))
    else:
        np.add.at(flat, idx, values.reshape(-1))
    return flat.reshape(out_shape)


def _quantize_population(graph: Graph, name: str, node: Neuron, paths: list[_Path], lim: dict[str, int],
                         per_channel: bool, forced: Any,
                         step: int = 0) -> tuple[FixedCubaLIF, dict[str, Any], np.ndarray, dict[str, Any]]:
    """One population and its incoming projections: (FixedCubaLIF, new projections, per-neuron
    scale, record figures).  Raises ``_Fallback`` when a per-channel scale does not fit a
    projection that shares its weights across the channel."""
    t = _neuron_terms(node, graph.dt, lim["decay_bits"])
    _fold_paths(graph, name, paths, t["gain"])
    if forced is not None:  # a forced scale keeps the chip's own shift and nothing more
        scale = np.broadcast_to(np.asarray(forced, np.float64), node.shape).copy()
        shift, limited_by = lim["min_shift"], "forced"
    else:
        scale, shift, limited_by = _choose_scale(graph, name, node.shape, paths, t, lim, per_channel)
        if step:  # calibration's candidate: S0 * 2^(step/4) (compiler/passes/calibrate.py)
            scale, shift = scale * step_factor(step), step_shift(step, shift, lim["min_shift"])
    new_proj, max_err, sat_weights, sat_biases = _quantize_projections(graph, paths, scale, shift, lim)
    fixed, sat_neuron = _fixed_neuron(name, node, t, scale, shift, lim)
    sat = {"weights": sat_weights, "biases": sat_biases + sat_neuron["biases"], "thresholds": sat_neuron["thresholds"]}
    uniq = np.unique(scale)
    figures: dict[str, Any] = {
        "scale": float(uniq[0]) if uniq.size == 1 else [float(uniq.min()), float(uniq.max())],
        "input_shift": shift,
        "max_weight_error": max_err,
        "saturated": sat,
        "limited_by": limited_by,
        "inputs": [p.node for p in paths],
    }
    return fixed, new_proj, scale, figures


def _fold_paths(graph: Graph, name: str, paths: list[_Path], gain: np.ndarray) -> None:
    """Fold the neuron gain into every incoming path; a gain that varies inside a channel of a
    convolution cannot ride on its shared weights, which no per-layer retry can fix."""
    try:
        for p in paths:
            _fold(graph, p, np.asarray(gain, np.float64))
    except _Fallback as exc:
        raise UnsupportedError(
            f"its gain varies within a channel of the projection path through '{exc.args[0]}'", node=name,
            fix="give the neurons of one channel equal time constants and r",
        ) from None


def _input_bounds(graph: Graph, shape: tuple[int, ...], paths: list[_Path],
                  t: Mapping[str, Any], decay_bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per neuron, in float units: the largest |W_eff|, the largest one-step input (weights
    times the source magnitude, plus projection biases) and the summed projection biases."""
    wmax = np.zeros(shape)
    drive = np.zeros(shape)
    proj_bias = np.zeros(shape)
    for p in paths:
        a = np.abs(p.w_eff)
        wmax = np.maximum(wmax, _to_population(graph, _row_stat(graph, p, a, "max"), p))
        m = p.in_max if math.isfinite(p.in_max) else 0.0  # a non-spiking source: magnitude unknown
        d = _row_stat(graph, p, a * m, "sum")
        if p.b_eff is not None:
            b_out = np.abs(_bias_per_output(graph, p))
            d = d + b_out
            proj_bias = proj_bias + _to_population(graph, b_out, p)
        drive = np.maximum(drive, _to_population(graph, d, p))
    if t["alpha_syn"] is not None:  # a leaky u settles at x / (du / 2^D), above one step's input
        drive = drive * (1 << decay_bits) / np.maximum(t["du"], 1)
    return wmax, drive, proj_bias


def _per_scale(arr: np.ndarray, shape: tuple[int, ...], per_channel: bool, how: str) -> np.ndarray:
    """``arr`` reduced (``how``: 'max' or 'min') over the neurons that share one scale, and
    broadcast back to ``shape``: the whole layer, one channel (axis 0), or each neuron alone."""
    if not per_channel:
        return np.full(shape, arr.max() if how == "max" else arr.min())
    if len(shape) > 1:
        per_c = arr.reshape(shape[0], -1)
        r = per_c.max(axis=1) if how == "max" else per_c.min(axis=1)
        return np.broadcast_to(r.reshape((-1,) + (1,) * (len(shape) - 1)), shape).copy()
    return arr.copy()


def _inverse_cap(values: Any, limit: int, shape: tuple[int, ...]) -> np.ndarray:
    """The largest scale that keeps ``|values| * scale <= limit``, per neuron (inf where 0)."""
    v = np.abs(np.asarray(values, np.float64)) * np.ones(shape)
    return np.where(v > 0, limit / np.where(v > 0, v, 1), np.inf)


def _scale_caps(shape: tuple[int, ...], t: Mapping[str, Any], drive: np.ndarray, proj_bias: np.ndarray,
                lim: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Per neuron, the largest scale each register allows; named, so the record can say which
    one limited the scale.  The state keeps one bit of headroom for the one-step input."""
    return {
        "threshold": _inverse_cap(t["thr"], lim["thr_max"], shape),
        "reset": _inverse_cap(t["v_reset"], lim["thr_max"], shape),
        "bias": _inverse_cap(np.abs(t["bias"]) + proj_bias, lim["bias_max"], shape),
        "state": _inverse_cap(drive, (lim["state_max"] + 1) // 2, shape),
    }


def _choose_scale(graph: Graph, name: str, shape: tuple[int, ...], paths: list[_Path], t: Mapping[str, Any],
                  lim: Mapping[str, Any], per_channel: bool) -> tuple[np.ndarray, int, str]:
    """(per-neuron scale, input_shift, what limited it): S = min(S_w 2^s0, S_cap), then the
    shared exponent's extra shift while the caps leave room (module docstring)."""
    wmax, drive, proj_bias = _input_bounds(graph, shape, paths, t, lim["decay_bits"])
    caps = _scale_caps(shape, t, drive, proj_bias, lim)
    cap = _per_scale(np.minimum.reduce(list(caps.values())), shape, per_channel, "min")
    # The chip's own input shift (Loihi: 6) is not optional: mantissas are m = S W / 2**shift.
    w_scale = _inverse_cap(_per_scale(wmax, shape, per_channel, "max"), lim["w_max"], shape) * (1 << lim["min_shift"])
    scale = np.minimum(w_scale, cap)
    limited_by = min(caps, key=lambda k: caps[k].min()) if np.any(cap < w_scale) else "weights"
    if not np.all(np.isfinite(scale)):  # no weights and no bounds at all
        scale = np.where(np.isfinite(scale), scale, 1.0)
    extra = _exponent_headroom(float(np.min(cap / scale)), lim["max_shift"])
    scale = scale * (1 << extra)
    if not np.all(scale > 0):
        raise UnsupportedError("the chosen scale is zero", node=name, fix="check the population's parameters")
    return scale, lim["min_shift"] + extra, limited_by


def _exponent_headroom(ratio: float, max_shift: int) -> int:
    """The largest shared-exponent step ``e <= max_shift`` with ``2**e <= ratio``: the mantissas
    stay as they are and the membrane gains ``e`` bits below the caps."""
    extra = 0
    while extra < max_shift and ratio >= 2.0 ** (extra + 1):
        extra += 1
    return extra


def _synapse_scale(graph: Graph, path: _Path, proj: Any, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the population's scale at the projection's outputs, the scale of each weight entry).
    A convolution's weight serves a whole channel, so its scale must be one per channel."""
    s_row = _to_projection(graph, scale, path)
    if not isinstance(proj, _ConvNd):
        return s_row, s_row.reshape(-1)[np.asarray(path.row_index)]
    per_c = s_row.reshape(s_row.shape[0], -1)
    if not np.all(per_c == per_c[:, :1]):
        raise _Fallback(path.node)
    return s_row, per_c[:, 0].reshape((-1,) + (1,) * (proj.weight.ndim - 1))


def _quantize_projections(graph: Graph, paths: list[_Path], scale: np.ndarray, shift: int,
                          lim: Mapping[str, Any]) -> tuple[dict[str, Any], float, int, int]:
    """(integer projections by name, largest weight error, saturated weights, saturated biases)."""
    new_proj: dict[str, Any] = {}
    max_err = 0.0
    sat_w = sat_b = 0
    unit = float(1 << shift)
    for p in paths:
        proj = graph.nodes[p.node]
        s_row, s_syn = _synapse_scale(graph, p, proj, scale)
        m, n = _clip_counted(_round(s_syn * p.w_eff / unit), lim["w_max"])
        sat_w += n
        weight = proj.scale if isinstance(proj, Scale) else proj.weight
        if weight.size:
            max_err = max(max_err, _max_dequant_error(m, unit, s_syn, p.k, weight))
        changes: dict[str, Any] = {("scale" if isinstance(proj, Scale) else "weight"): m.astype(np.int64)}
        if p.b_eff is not None:
            s_b = s_row if not isinstance(proj, _ConvNd) else s_row.reshape(s_row.shape[0], -1)[:, 0]
            b, n = _clip_counted(_round(s_b * p.b_eff / unit), lim["bias_max"])
            sat_b += n
            changes["bias"] = b.astype(np.int64)
        new_proj[p.node] = proj.replace(**changes)
    return new_proj, max_err, sat_w, sat_b


def _clip_counted(q: np.ndarray, limit: int) -> tuple[np.ndarray, int]:
    """``q`` clamped to ±limit as the chip's saturating arithmetic would, and how many were."""
    return np.clip(q, -limit, limit), int(np.count_nonzero(np.abs(q) > limit))


def _fixed_neuron(name: str, node: Neuron, t: Mapping[str, Any], scale: np.ndarray, shift: int,
                  lim: Mapping[str, Any]) -> tuple[FixedCubaLIF, dict[str, int]]:
    """The FixedCubaLIF of ``node`` at ``scale``, and its saturated thresholds and biases."""
    if lim["thr_unsigned"] and np.any(np.asarray(t["thr"]) < 0):
        raise UnsupportedError("has a negative threshold; this chip's threshold is an unsigned mantissa",
                               node=name, parameter="v_threshold", limit=">= 0",
                               fix="train with positive thresholds")
    thr, n_thr = _clip_counted(_on_grid(scale * t["thr"], lim["thr_shift"]), lim["thr_max"])
    v_reset, n_reset = _clip_counted(_on_grid(scale * t["v_reset"], lim["thr_shift"]), lim["thr_max"])
    bias, n_bias = _clip_counted(_mant_exp(scale * t["bias"], lim["bias_mant"], lim["bias_exp_max"]), lim["bias_max"])
    fixed = FixedCubaLIF(
        du=t["du"].astype(np.int64), dv=t["dv"].astype(np.int64), bias=bias.astype(np.int64),
        v_threshold=thr.astype(np.int64), v_reset=v_reset.astype(np.int64), reset=t["reset"],
        spiking_output=bool(node.spiking) or isinstance(node, Threshold), decay_bits=lim["decay_bits"],
        input_shift=shift, u_bits=lim["state_bits"], v_bits=lim["state_bits"], u_overflow=lim["u_overflow"],
        rounding=lim["rounding"],
    )
    return fixed, {"thresholds": n_thr + n_reset, "biases": n_bias}


def _bias_per_output(graph: Graph, p: _Path) -> np.ndarray:
    out_shape = graph.out_shape(p.node)
    b = np.asarray(p.b_eff, np.float64)
    return np.broadcast_to(b.reshape((-1,) + (1,) * (len(out_shape) - 1)), out_shape)


# --- calibration ----------------------------------------------------------------------------


def _agreement(graph: Graph, out: Graph, calibration: Any, changes: list[Change],
               pop_scale: Mapping[str, np.ndarray]) -> tuple[list[Change], dict[str, Any]]:
    from ...ir.readout import decode_rate
    from ...ir.simulate import simulate

    pops = [c.node for c in changes]
    ref = simulate(graph, calibration, record=pops, mode="float", dtype=np.float64)
    fix = simulate(out, calibration, record=pops, mode="fixed")
    new: list[Change] = []
    worst = 1.0
    for c in changes:
        a, b = ref.recorded[c.node], fix.recorded[c.node]
        figures = dict(c.figures)
        if graph.nodes[c.node].spiking:
            agree = float(np.mean(a == b)) if a.size else 1.0
            figures["spike_agreement"] = agree
            worst = min(worst, agree)
            what = c.what + f", spike agreement {agree:.4%}"
        else:
            span = float(np.max(np.abs(a), initial=0.0)) or 1.0
            err = float(np.max(np.abs(b / pop_scale[c.node] - a), initial=0.0)) / span
            figures["relative_error"] = err
            what = c.what + f", relative error {err:.3g}"
        new.append(Change(c.node, what, figures))
    same = [float(np.mean(decode_rate(ref.outputs[o]) == decode_rate(fix.outputs[o]))) for o in graph.outputs]
    return new, {"min_spike_agreement": worst, "output_agreement": min(same)}
