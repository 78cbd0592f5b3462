"""The pulse-level SFQ kernel (``csrc/sfq.c``) from Python: a flat netlist of cells, checked here
because the C trusts every index, and a run over a batch of pulse inputs.

A :class:`PulseNetlist` is what a superconducting target lowers to: cells (JTL, splitter, merger,
synapse, neuron) with integer-femtosecond delays, their wiring, and clocked neurons whose storage
loops the clock reads out once per period (csrc/sfq.h states the semantics).  :func:`run_pulses`
runs it: an event queue at femtosecond resolution, one C call per chunk of samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Mapping

import numpy as np

from ..errors import ProgramError, SimulationError
from .counters import Counters
from .engine import engine_module, in_chunks
from .program import RESETS

__all__ = ["CELL_TYPES", "SFQ_COUNTERS", "PulseNetlist", "PulseRun", "SfqCounters", "run_pulses"]

# Order = csrc/sfq.h SK_SFQ_* (tests/runtime/test_sfq_kernel.py compares them).
CELL_TYPES = ("jtl", "splitter", "merger", "synapse", "neuron")
SFQ_COUNTERS = tuple(f"switches_{t}" for t in CELL_TYPES) + tuple(f"pulses_{t}" for t in CELL_TYPES) + (
    "collisions", "blocked", "fluxons", "events")
_RESETS = {r: RESETS.index(r) for r in ("value", "subtract")}   # engine.h SK_RESET_*
_MAX_TIME_FS = 2**62


@dataclass(frozen=True, eq=False)
class PulseNetlist:
    """Cells ``0..n-1`` and clocked neurons, as flat arrays (csrc/sfq.h names each one)."""

    type: np.ndarray          # int, index into CELL_TYPES
    delay_fs: np.ndarray      # int, the cell's own delay
    pre_delay_fs: np.ndarray  # int, delay line in front of it
    jj: np.ndarray            # int, junctions switched per pulse it emits
    pre_jtl: np.ndarray       # int, JTL stages in that delay line
    out0: np.ndarray          # int, -1 for none
    out1: np.ndarray          # int, splitters only
    port: np.ndarray          # int, 0 excitatory / 1 inhibitory: the port of its outputs (neurons)
    param: np.ndarray         # synapse: level; neuron: neuron index
    neuron_cell: np.ndarray   # cell of each neuron
    threshold: np.ndarray
    v_reset: np.ndarray
    dv: np.ndarray
    bias: np.ndarray
    reset: tuple[str, ...]    # per neuron: "value" or "subtract"
    input_cell: np.ndarray    # cell each input channel drives (-1: none)
    slots: int                # pulse slots per synapse (its largest level)
    window_fs: int
    spacing_fs: int
    jtl_jj: int
    decay_bits: int = 12
    input_shift: int = 0
    v_bits: int = 24

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.type == "np.ndarray":
                object.__setattr__(self, f.name, _whole_array(getattr(self, f.name), f.name))
        object.__setattr__(self, "reset", tuple(self.reset))
        _validate(self)

    @property
    def n_cells(self) -> int:
        return int(self.type.size)

    @property
    def n_neurons(self) -> int:
        return int(self.neuron_cell.size)


def _bad(msg: str, parameter: str, fix: str | None = None) -> ProgramError:
    return ProgramError(msg, node="sfq netlist", parameter=parameter, fix=fix)


def _whole_array(value: object, name: str) -> np.ndarray:
    """A read-only int64 copy; fractions, NaN and values beyond int64 are refused, not truncated."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise _bad(f"has dtype {arr.dtype}, expected whole numbers", name)
    if arr.dtype.kind == "f" and (not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr))
                                  or (arr.size and np.abs(arr).max() >= 2.0**62)):
        raise _bad("holds a value that is not a whole number below 2**62", name)
    if arr.dtype.kind == "u" and arr.size and arr.max() >= 2**62:
        raise _bad("holds a value beyond 2**62", name)
    out = np.array(arr, dtype=np.int64, copy=True)
    out.flags.writeable = False
    return out


def _validate(n: PulseNetlist) -> None:
    cells, neurons = n.n_cells, n.n_neurons
    for name in ("delay_fs", "pre_delay_fs", "jj", "pre_jtl", "out0", "out1", "port", "param"):
        if getattr(n, name).shape != (cells,):
            raise _bad(f"has shape {getattr(n, name).shape}, expected ({cells},)", name)
    for name in ("threshold", "v_reset", "dv", "bias"):
        if getattr(n, name).shape != (neurons,):
            raise _bad(f"has shape {getattr(n, name).shape}, expected ({neurons},)", name)
    if len(n.reset) != neurons or any(r not in _RESETS for r in n.reset):
        raise _bad(f"needs one of {sorted(_RESETS)} per neuron", "reset")
    if cells >= 2**31 - 1:
        raise _bad(f"{cells} cells", "type", fix="at most 2**31 - 2 cells")
    if n.type.size and (n.type.min() < 0 or n.type.max() >= len(CELL_TYPES)):
        raise _bad("holds an unknown cell type", "type", fix=f"use 0..{len(CELL_TYPES) - 1} ({CELL_TYPES})")
    for name in ("delay_fs", "pre_delay_fs", "jj", "pre_jtl"):
        arr = getattr(n, name)
        if arr.size and (arr.min() < 0 or arr.max() >= 2**40):
            raise _bad("must be >= 0 and < 2**40", name)
    for name, value, hi in (("slots", n.slots, 2**20), ("window_fs", n.window_fs, 2**40),
                            ("spacing_fs", n.spacing_fs, 2**40), ("jtl_jj", n.jtl_jj, 64),
                            ("decay_bits", n.decay_bits, 30), ("input_shift", n.input_shift, 16),
                            ("v_bits", n.v_bits, 41)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not 0 <= value <= hi:
            raise _bad(f"{name}={value!r}", name, fix=f"a whole number in [0, {hi}]")
    if n.slots < 1 or n.v_bits < 2:
        raise _bad("slots must be >= 1 and v_bits >= 2", "slots")
    if n.v_bits + n.decay_bits > 62:
        raise _bad(f"v_bits + decay_bits = {n.v_bits + n.decay_bits}: the leak's product would overflow int64",
                   "v_bits", fix="keep v_bits + decay_bits <= 62")
    kind = {t: n.type == k for k, t in enumerate(CELL_TYPES)}
    for name in ("out0", "out1"):
        arr = getattr(n, name)
        if arr.size and (arr.min() < -1 or arr.max() >= cells):
            raise _bad(f"points outside the {cells} cells", name)
    if np.any((n.out1 >= 0) & ~kind["splitter"]) or np.any(kind["splitter"] & ((n.out0 < 0) | (n.out1 < 0))):
        raise _bad("a splitter has two outputs, no other cell has a second one", "out1")
    def into_neuron(out: np.ndarray) -> np.ndarray:
        hit = out >= 0
        hit[hit] = kind["neuron"][out[hit]]
        return hit

    only_neurons = into_neuron(n.out0) & (into_neuron(n.out1) | (n.out1 < 0))
    if np.any((n.port != 0) & ~only_neurons) or np.any((n.port < 0) | (n.port > 1)):
        raise _bad("a port is 0 or 1, and 1 (inhibitory) only on a cell whose outputs are all neurons", "port")
    syn = n.param[kind["synapse"]]
    if syn.size and (syn.min() < 0 or syn.max() > n.slots):
        raise _bad(f"a synapse level is outside [0, {n.slots}]", "param")
    if n.neuron_cell.size and (n.neuron_cell.min() < 0 or n.neuron_cell.max() >= cells):
        raise _bad("points outside the cells", "neuron_cell")
    if int(kind["neuron"].sum()) != neurons or (neurons and (
            not np.all(kind["neuron"][n.neuron_cell]) or not np.array_equal(n.param[n.neuron_cell],
                                                                             np.arange(neurons)))):
        raise _bad("each neuron cell must be listed once, its param its own neuron index", "neuron_cell")
    v_max = (1 << (n.v_bits - 1)) - 1
    for name in ("threshold", "v_reset", "bias"):
        arr = getattr(n, name)
        if arr.size and np.abs(arr).max() > v_max:
            raise _bad(f"exceeds the storage loop's +-{v_max}", name)
    if n.dv.size and (n.dv.min() < 0 or n.dv.max() > (1 << n.decay_bits)):
        raise _bad(f"a decay outside [0, 2**{n.decay_bits}]", "dv")
    if n.input_cell.ndim != 1 or (n.input_cell.size and (n.input_cell.min() < -1 or n.input_cell.max() >= cells)):
        raise _bad("points outside the cells", "input_cell")
    _check_acyclic(n, kind["neuron"])


def _check_acyclic(n: PulseNetlist, is_neuron: np.ndarray) -> None:
    """A loop of cells without a neuron in it would circulate a pulse forever: refused."""
    src = np.concatenate([np.arange(n.n_cells), np.arange(n.n_cells)])
    dst = np.concatenate([n.out0, n.out1])
    keep = (dst >= 0) & ~is_neuron[src]
    keep[keep] &= ~is_neuron[dst[keep]]
    src, dst = src[keep], dst[keep]
    indeg = np.bincount(dst, minlength=n.n_cells)
    order = np.argsort(src, kind="stable")
    src, dst = src[order], dst[order]
    starts = np.searchsorted(src, np.arange(n.n_cells + 1))
    stack = list(np.flatnonzero(indeg == 0))
    seen = 0
    while stack:
        c = stack.pop()
        seen += 1
        for d in dst[starts[c]:starts[c + 1]]:
            indeg[d] -= 1
            if indeg[d] == 0:
                stack.append(d)
    if seen != n.n_cells:
        raise _bad("cells form a loop with no neuron in it (a pulse would circulate forever)", "out0")


@dataclass(frozen=True)
class PulseRun:
    """Spikes of every neuron ``(batch, steps, neurons)`` and per-sample counters
    ``(batch, len(SFQ_COUNTERS))``."""

    spikes: np.ndarray
    counters: np.ndarray

    def totals(self) -> dict[str, int]:
        """Each counter summed over the batch."""
        return {name: int(self.counters[:, k].sum()) for k, name in enumerate(SFQ_COUNTERS)}


def run_pulses(net: PulseNetlist, inputs: np.ndarray, *, period_fs: int, stochastic: bool = False, seed: int = 0,
               threads: int | None = None) -> PulseRun:
    """Run ``net`` over ``inputs`` (``(batch, steps, channels)`` of 0/1 pulses per clock period)."""
    arr = np.asarray(inputs)
    if arr.ndim != 3 or arr.shape[2] != net.input_cell.size:
        raise SimulationError(f"inputs have shape {arr.shape}, expected (batch, steps, {net.input_cell.size})",
                              parameter="inputs")
    if arr.dtype.kind not in "biuf" or (arr.size and not np.all((arr == 0) | (arr == 1))):
        raise SimulationError("an SFQ input carries 0 or 1 pulse per clock period", parameter="inputs",
                              fix="give spikes (0/1); rate-code graded values first")
    if not isinstance(period_fs, (int, np.integer)) or period_fs < 1:
        raise SimulationError(f"period_fs={period_fs!r}", parameter="period_fs", fix="a whole number >= 1")
    batch, steps = arr.shape[:2]
    # The latest a pulse can occur: the last edge, plus every delay of the netlist in a row, plus
    # every synapse's pulse train (a loose bound, in Python integers).
    n_syn = int((net.type == CELL_TYPES.index("synapse")).sum())
    latest = (steps * int(period_fs) + int(net.delay_fs.sum()) + int(net.pre_delay_fs.sum())
              + n_syn * net.slots * int(net.spacing_fs))
    if latest >= _MAX_TIME_FS or batch >= 2**31 or steps >= 2**31:
        raise SimulationError(f"{steps} steps of {period_fs} fs (and the netlist's delays) overflow the kernel's "
                              "clock", parameter="steps", limit="2**62 fs")
    if not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise SimulationError(f"seed={seed!r}", parameter="seed", fix="a whole number in [0, 2**64)")
    mod = engine_module()
    ffi, lib = mod.ffi, mod.lib
    pulses = np.ascontiguousarray(arr, dtype=np.uint8)
    spikes = np.zeros((batch, steps, net.n_neurons), np.uint8)
    counters = np.zeros((batch, len(SFQ_COUNTERS)), np.int64)
    i32 = {k: np.ascontiguousarray(getattr(net, k), np.int32) for k in
           ("type", "jj", "pre_jtl", "out0", "out1", "param", "neuron_cell", "input_cell")}
    i64 = {k: np.ascontiguousarray(getattr(net, k), np.int64) for k in
           ("delay_fs", "pre_delay_fs", "threshold", "v_reset", "dv", "bias")}
    port = np.ascontiguousarray(net.port, np.int8)
    reset = np.array([_RESETS[r] for r in net.reset], np.int32)

    def ptr(a: np.ndarray, ctype: str):  # noqa: ANN202 - a cffi pointer
        return ffi.cast(ctype + " *", ffi.from_buffer(a)) if a.size else ffi.NULL

    def call(lo: int, hi: int) -> int:
        a = ffi.new("sk_sfq_args *")
        a.n_cells, a.n_neurons, a.n_inputs = net.n_cells, net.n_neurons, net.input_cell.size
        for k, v in i32.items():
            setattr(a, k, ptr(v, "int32_t"))
        for k, v in i64.items():
            setattr(a, k, ptr(v, "int64_t"))
        a.port, a.reset_mode = ptr(port, "int8_t"), ptr(reset, "int32_t")
        a.jtl_jj, a.window_fs, a.spacing_fs, a.slots = net.jtl_jj, net.window_fs, net.spacing_fs, net.slots
        a.stochastic, a.seed = int(bool(stochastic)), int(seed)
        a.decay_bits, a.input_shift, a.v_max = net.decay_bits, net.input_shift, (1 << (net.v_bits - 1)) - 1
        a.inputs, a.spikes, a.counters = ptr(pulses, "uint8_t"), ptr(spikes, "uint8_t"), ptr(counters, "int64_t")
        a.period_fs, a.batch, a.b_begin, a.b_end, a.steps = int(period_fs), batch, lo, hi, steps
        return int(lib.sk_sfq_run(a))

    if batch and steps:
        n_threads = max(1, min(threads or 1, batch))
        if any(in_chunks(call, batch, n_threads)):
            raise SimulationError("the SFQ kernel could not allocate its event queue",
                                  fix="run fewer samples or a smaller netlist")
    return PulseRun(spikes, counters)


@dataclass(frozen=True)
class SfqCounters(Counters):
    """The engine's counters (spikes, synaptic events, neuron updates per population and step,
    the whole chip as one core) plus the pulse kernel's own per sample, ``sfq``:
    ``(batch, len(SFQ_COUNTERS))`` (junction switches and pulses by cell type, merger collisions,
    pulses blocked by stochastic synapses, fluxons stored, queue events)."""

    sfq: np.ndarray = field(default_factory=lambda: np.zeros((0, len(SFQ_COUNTERS)), np.int64))

    def sfq_totals(self) -> Mapping[str, int]:
        """Each pulse-kernel counter summed over the batch."""
        return {name: int(self.sfq[:, k].sum()) for k, name in enumerate(SFQ_COUNTERS)}
