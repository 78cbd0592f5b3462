"""Running a Program on the C engine: ``run(program, inputs, steps) -> Result``.

The whole simulation of a batch is one C call per thread (cffi releases the GIL), so there is
no per-step Python overhead; samples are split across threads.  Inputs are checked here,
including the magnitude bound that keeps fixed-point accumulation inside int64, because the
engine itself never checks anything.
"""

from __future__ import annotations

import importlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping

import numpy as np

from ..errors import ProgramError, SimulationError
from ..ir.inputs import check_inputs
from ..ir.limits import ENV_VAR, check_size
from .counters import COUNTERS, Counters
from .crossbar import ColumnGroups, column_groups, tile_count
from .fanout import TOTAL_COLUMNS, engine_fanout_tables, source_order
from .program import KERNELS, OVERFLOWS, PROJECTION_KINDS, RESETS, ROUNDINGS, Program
from .xylo import engine_weight

__all__ = ["run", "Result", "engine_module", "program_inputs", "in_chunks"]

STATE_VARIABLES = ("v", "u")


@lru_cache(maxsize=None)
def engine_module(name: str | None = None) -> Any:
    """The compiled cffi module: ``spikec.runtime._engine``, or the one named by ``$SPIKEC_ENGINE``
    (the sanitized CI build)."""
    name = name or os.environ.get("SPIKEC_ENGINE") or "spikec.runtime._engine"
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise SimulationError(
            f"the C engine {name!r} is not built ({exc})",
            fix="reinstall spikec (`pip install -e .` compiles csrc/ through cffi; it needs a C compiler)",
        ) from None


@dataclass(frozen=True)
class Result:
    """What a run produced, each array ``(batch, steps, *shape)``.

    ``outputs`` by output port, ``recorded`` by population (its events: spikes, or graded
    values), ``state`` by population then variable (``v``, ``u``), ``event_counts`` by
    population (``(batch, *shape)``, events per neuron), and the hardware ``counters``."""

    outputs: Mapping[str, np.ndarray]
    recorded: Mapping[str, np.ndarray]
    state: Mapping[str, Mapping[str, np.ndarray]]
    event_counts: Mapping[str, np.ndarray]
    counters: Counters
    steps: int

    @property
    def output(self) -> np.ndarray:
        if len(self.outputs) != 1:
            raise SimulationError(f"the program has {len(self.outputs)} outputs; pick one from .outputs")
        return next(iter(self.outputs.values()))


def run(
    program: Program,
    inputs: np.ndarray | Mapping[str, np.ndarray],
    steps: int | None = None,
    *,
    record: Iterable[str] | str = (),
    record_state: Mapping[str, Iterable[str]] | None = None,
    count: Iterable[str] | str = (),
    counters: str = "step",
    threads: int | None = None,
) -> Result:
    """Run ``program`` on ``inputs`` (``(batch, time, *shape)`` per input port).

    ``steps`` defaults to the input length (later steps see zero input).  ``record`` names
    populations whose events to keep (or ``"all"``); ``record_state`` maps a population to
    state variables (``"v"``, ``"u"``).  ``count`` names populations (or ``"all"``) whose
    events are only counted per neuron (``Result.event_counts``, ``(batch, *shape)``): the
    cheap record of long runs.  ``counters`` is ``"step"`` (one row per time step)
    or ``"total"`` (summed over the run).  ``threads`` defaults to the CPU count.
    """
    lib_mod = engine_module()
    ffi, lib = lib_mod.ffi, lib_mod.lib
    if counters not in ("step", "total"):
        raise SimulationError(f"counters={counters!r}", parameter="counters", fix="use 'step' or 'total'")
    data = program_inputs(program, inputs)
    batch, length = next(iter(data.values())).shape[:2] if data else (1, 0)
    steps = length if steps is None else _whole_steps(steps)
    names = ([p.name for p in program.populations] if record == "all"
             else ([record] if isinstance(record, str) else list(record)))
    state_req = {k: tuple(v) for k, v in (record_state or {}).items()}
    counted = ([p.name for p in program.populations] if count == "all"
               else ([count] if isinstance(count, str) else list(count)))
    for n in names + counted:
        program.population(n)
    for n, vars_ in state_req.items():
        if not program.population(n).is_neuron:
            raise SimulationError("has no neuron state to record", node=n, parameter="record_state")
        for v in vars_:
            if v not in STATE_VARIABLES:
                raise SimulationError(f"unknown state variable {v!r}", node=n, parameter="record_state",
                                      fix=f"use {STATE_VARIABLES}")
    _check_magnitudes(program, data)

    fixed = program.arithmetic == "fixed"
    vdt = np.int64 if fixed else np.float64
    outs_wanted = set(program.outputs.values()) | set(names)
    n_threads = max(1, min(batch, threads or os.cpu_count() or 1))
    _check_run_size(program, batch, steps, counters, outs_wanted, counted, state_req, n_threads)
    rec_out = {p.name: np.zeros((batch, steps, p.size), vdt) for p in program.populations if p.name in outs_wanted}
    rec_count = {n: np.zeros((batch, program.population(n).size), np.int64) for n in counted}
    rec_state = {n: {v: np.zeros((batch, steps, program.population(n).size), vdt) for v in vs}
                 for n, vs in state_req.items()}
    c_args = _CArgs(ffi, fixed)
    pops = ffi.new("sk_pop[]", len(program.populations))
    for k, (pop, table) in enumerate(zip(program.populations, _cached(program, "_fanout_tables", _fanout))):
        c_args.population(pops[k], program, k, table, data, length, batch)
        if pop.name in rec_out:
            c_args.output(pops[k], "rec_out", rec_out[pop.name])
        if pop.name in rec_count:
            pops[k].rec_count = ffi.cast("int64_t *", ffi.from_buffer(rec_count[pop.name]))
        for v, arr in rec_state.get(pop.name, {}).items():
            c_args.output(pops[k], f"rec_{v}", arr)
    projs = ffi.new("sk_proj[]", max(1, len(program.projections)))
    groups = _cached(program, "_xb_groups", _crossbar_groups)
    tiles = {j.name: np.zeros((batch, tile_count(program.population(j.source).size, j.geometry["tile_rows"],
                                                 groups[j.name].n), len(COUNTERS)), np.int64)
             for j in program.projections if j.kind == "crossbar"}
    for k, (j, layout) in enumerate(zip(program.projections, _cached(program, "_engine_layouts", _layouts))):
        c_args.projection(projs[k], program, j, layout)
        if j.kind == "crossbar":
            c_args.crossbar(projs[k], j, k, groups[j.name], tiles[j.name])
    tsteps = steps if counters == "step" else 1
    pop_counters, core_counters = _zeros_together(((batch, tsteps, len(program.populations), len(COUNTERS)),
                                                   (batch, tsteps, program.n_cores, len(COUNTERS))))
    fn = lib.sk_run_fixed if fixed else lib.sk_run_float

    def call(lo: int, hi: int) -> int:
        args = ffi.new("sk_run_args *")
        args.n_pops, args.n_projs, args.n_cores = len(program.populations), len(program.projections), program.n_cores
        args.batch, args.b_begin, args.b_end, args.steps = batch, lo, hi, steps
        args.per_step = int(counters == "step")
        args.pops, args.projs = pops, projs
        args.pop_counters = ffi.cast("int64_t *", ffi.from_buffer(pop_counters))
        args.core_counters = ffi.cast("int64_t *", ffi.from_buffer(core_counters))
        return fn(args)

    if batch and steps:
        codes = in_chunks(call, batch, n_threads, steps * _sample_step_work(program))
        if any(codes):
            raise SimulationError("the C engine could not allocate its state",
                                  fix="run fewer samples or a smaller program")
    del c_args  # the buffers handed to C live until here
    shape = lambda name: (batch, steps, *program.population(name).shape)  # noqa: E731
    return Result(
        outputs={port: rec_out[n].reshape(batch, steps, *program.output_shapes[port])
                 for port, n in program.outputs.items()},
        recorded={n: rec_out[n].reshape(shape(n)) for n in names},
        state={n: {v: a.reshape(shape(n)) for v, a in vs.items()} for n, vs in rec_state.items()},
        event_counts={n: a.reshape(batch, *program.population(n).shape) for n, a in rec_count.items()},
        counters=Counters(
            populations=tuple(p.name for p in program.populations),
            per_population=pop_counters,
            per_core=core_counters,
            per_step=counters == "step",
            per_tile=tiles,
        ),
        steps=steps,
    )


def _zeros_together(shapes: Iterable[tuple[int, ...]]) -> list[np.ndarray]:
    """Zeroed int64 arrays of ``shapes``, views of one allocation.  Counters per step are
    megabytes that C touches once: one large block lets NumPy ask the kernel for huge pages
    (it does for blocks of 4 MiB and more), so the first touch costs a few page faults instead
    of one per 4 KiB, which with two threads dominated the run (the faults contend)."""
    shapes = list(shapes)
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    block = np.zeros(sum(sizes), np.int64)
    cuts = np.cumsum([0] + sizes)
    return [block[lo:hi].reshape(s) for lo, hi, s in zip(cuts[:-1], cuts[1:], shapes)]


def _whole_steps(steps: Any) -> int:
    """``steps`` as a count: 1e9 is 10^9, but 2.5, NaN, inf, True or "10" are refused by name."""
    ok = isinstance(steps, (int, float, np.integer, np.floating)) and not isinstance(steps, (bool, np.bool_))
    if not ok or not np.isfinite(steps) or steps != int(steps):
        raise SimulationError(f"steps={steps!r} is not a whole number", parameter="steps",
                              fix="give a number of time steps such as 100")
    if steps < 0:
        raise SimulationError(f"steps={int(steps)} must be >= 0", parameter="steps")
    return int(steps)


def _check_run_size(program: Program, batch: int, steps: int, counters: str, outs: set[str], counted: list[str],
                    state: Mapping[str, tuple[str, ...]], threads: int) -> None:
    """Refuse, before allocating, a run whose arrays exceed the memory limit: every array the
    Result returns (batch x steps x neurons recorded, and counters per population and core),
    plus the engine's own state per thread (delay rings, events, membrane)."""
    size = {p.name: p.size for p in program.populations}  # Python ints: no overflow for hostile sizes
    recorded = sum(size[n] for n in outs) + sum(size[n] * len(v) for n, v in state.items())
    rows = steps if counters == "step" else 1
    parts = {
        "recorded outputs and state": 8 * batch * steps * recorded,
        "counters": 8 * batch * rows * (len(program.populations) + program.n_cores) * len(COUNTERS),
        "event counts": 8 * batch * sum(size[n] for n in counted),
        "engine state": threads * sum(p.size * (8 * int(r) + 40) for p, r in zip(program.populations, program.rings)),
    }
    total = sum(parts.values())
    biggest = max(parts, key=lambda k: parts[k])
    check_size(
        f"a run of {batch} sample(s) x {steps} steps ({biggest} the largest part)", total, parameter="steps",
        fix="run fewer steps or samples, record fewer populations, use counters='total', or set "
            f"{ENV_VAR} to allow more",
    )


class _CArgs:
    """Fills the engine's C structs; keeps every array it hands to C alive while it lives."""

    def __init__(self, ffi: Any, fixed: bool) -> None:
        self.ffi, self.fixed = ffi, fixed
        self.keep: list[np.ndarray] = []
        self.suffix = "_i" if fixed else "_f"
        self.vtype = "int64_t" if fixed else "double"

    def buf(self, arr: np.ndarray | None, ctype: str) -> Any:
        """A pointer to a contiguous copy (or view) of ``arr``, for C to read."""
        if arr is None:
            return self.ffi.NULL
        arr = np.ascontiguousarray(arr)
        self.keep.append(arr)
        return self.ffi.cast(ctype + " *", self.ffi.from_buffer(arr))

    def output(self, c: Any, field: str, arr: np.ndarray) -> None:
        """Point ``field`` at ``arr`` itself: C writes into the array the Result returns."""
        setattr(c, field + self.suffix, self.ffi.cast(self.vtype + " *", self.ffi.from_buffer(arr)))

    def population(self, c: Any, program: Program, k: int, table: Any, data: Mapping[str, np.ndarray],
                   length: int, batch: int) -> None:
        pop = program.populations[k]
        c.kernel, c.size, c.spiking = KERNELS.index(pop.kernel), pop.size, int(pop.spiking)
        c.reset, c.cuba, c.ring = RESETS.index(pop.reset), int(pop.cuba), int(program.rings[k])
        prm = pop.params
        if pop.kernel == "cuba_float":
            c.uniform = int(all(np.all(prm[key] == prm[key][0]) for key in _UNIFORM if key in prm))
            for key, attr in _FLOAT_FIELDS:
                setattr(c, attr, self.buf(prm.get(key), "double"))
        elif pop.kernel == "cuba_fixed":
            for key, attr in _FIXED_FIELDS:
                setattr(c, attr, self.buf(prm.get(key), "int64_t"))
            cfg = pop.config
            c.decay_bits, c.input_shift = cfg["decay_bits"], cfg["input_shift"]
            c.u_bits, c.v_bits = cfg["u_bits"], cfg["v_bits"]
            c.u_wrap, c.v_wrap = OVERFLOWS.index(cfg["u_overflow"]), OVERFLOWS.index(cfg["v_overflow"])
            c.rounding = ROUNDINGS.index(cfg["rounding"])
        elif pop.kernel == "xylo":
            for key, attr in _XYLO_FIELDS:
                setattr(c, attr, self.buf(prm.get(key), "int64_t"))
            c.max_spikes = pop.config["max_spikes"]
        if "input_bias" in prm:
            setattr(c, "iinput_bias" if self.fixed else "input_bias", self.buf(prm["input_bias"], self.vtype))
        # Contiguous runs of neurons on one core: the engine counts neuron updates per run.
        own = program.core_of[program.offsets[k]: program.offsets[k] + pop.size]
        cut = np.flatnonzero(np.diff(own)) + 1
        c.n_segs = cut.size + 1
        c.seg_start = self.buf(np.concatenate([[0], cut, [pop.size]]).astype(np.int32), "int32_t")
        c.seg_core = self.buf(own[np.concatenate([[0], cut])].astype(np.int32), "int32_t")
        c.fan_tot, c.fan_ptr = self.buf(table.totals, "int64_t"), self.buf(table.ptr, "int64_t")
        c.fan_core = self.buf(table.core.astype(np.int32, copy=False), "int32_t")
        c.fan_syn = self.buf(table.syn.astype(np.int32, copy=False), "int32_t")
        c.fan_words = self.buf(table.words.astype(np.int32, copy=False), "int32_t")
        if pop.kernel == "input":
            port = next(p for p, n in program.inputs.items() if n == pop.name)
            setattr(c, "in" + self.suffix, self.buf(data[port].reshape(batch, length, pop.size), self.vtype))
            c.in_steps = length

    def projection(self, c: Any, program: Program, j: Any, layout: "_Layout") -> None:
        s, d = program.index[j.source], program.index[j.target]
        c.kind, c.src, c.dst = PROJECTION_KINDS.index(j.kind), s, d
        c.delay_base, c.has_delay = j.delay_base, int(j.delay is not None and bool(j.delay.any()))
        c.n_src, c.n_dst = program.populations[s].size, program.populations[d].size
        if j.kind == "crossbar":  # analog weights, double in either build
            c.w_f = self.buf(layout.weight, "double")
        else:
            setattr(c, "w" + self.suffix, self.buf(layout.weight, self.vtype))
        c.delay = self.buf(layout.delay, "int32_t") if c.has_delay else self.ffi.NULL
        if j.kind == "sparse":
            c.row_ptr, c.col = self.buf(layout.row_ptr, "int64_t"), self.buf(layout.col, "int32_t")
        elif j.kind == "conv":
            g = j.geometry
            c.cin, c.hin, c.win = g["in_shape"]
            c.cout, c.hout, c.wout = g["out_shape"]
            c.kh, c.kw = j.weight.shape[2:]
            c.sh, c.sw = g["stride"]
            c.dh, c.dw = g["dilation"]
            c.ph, c.pw = g["padding"][0][0], g["padding"][1][0]
            c.groups = g["groups"]
        if program.populations[d].kernel == "xylo":
            c.synapse, c.max_events = j.geometry["synapse"], j.geometry["max_events"]

    def crossbar(self, c: Any, j: Any, k: int, groups: ColumnGroups, tiles: np.ndarray) -> None:
        """The crossbar fields of projection ``k``; the engine adds its per-tile counters into ``tiles``."""
        g = j.geometry
        c.xb_rows, c.xb_groups, c.xb_in_bits, c.xb_adc_bits = g["tile_rows"], groups.n, g["in_bits"], g["adc_bits"]
        c.xb_stream, c.xb_seed = k, g["seed"]  # one RNG stream per projection
        c.xb_in_lsb, c.xb_adc_lsb, c.xb_read_sigma = g["in_lsb"], g["adc_lsb"], g["read_sigma"]
        c.xb_group, c.xb_group_core = self.buf(groups.group, "int32_t"), self.buf(groups.core, "int32_t")
        c.xb_group_cols = self.buf(groups.cols, "int32_t")
        c.xb_tiles = self.ffi.cast("int64_t *", self.ffi.from_buffer(tiles))


# Program parameter -> C field, per kernel.
_FLOAT_FIELDS = (("alpha_syn", "alpha_syn"), ("gain_syn", "gain_syn"), ("alpha", "alpha"), ("gain", "gain"),
                 ("bias", "bias"), ("v_threshold", "thr"), ("v_reset", "v_reset"), ("fire_scale", "fire_scale"),
                 ("fire_shift", "fire_shift"), ("v_init", "v_init"), ("u_init", "u_init"))
_FIXED_FIELDS = (("du", "du"), ("dv", "dv"), ("bias", "ibias"), ("v_threshold", "ithr"),
                 ("v_reset", "iv_reset"), ("v_init", "iv_init"), ("u_init", "iu_init"))
_XYLO_FIELDS = (("dash_syn", "dash_syn"), ("dash_syn2", "dash_syn2"), ("dash_mem", "dash_mem"), ("bias", "ibias"),
                ("threshold", "ithr"))
# Parameters that, equal across a population, let the float kernel use scalars.
_UNIFORM = ("alpha_syn", "gain_syn", "alpha", "gain", "bias", "v_threshold")


@dataclass(frozen=True)
class _Layout:
    """A projection's synapses as the engine reads them: dense weights transposed to (source,
    target), sparse ones as CSR by source, convolution kernels as they are."""

    weight: np.ndarray
    delay: np.ndarray | None = None
    row_ptr: np.ndarray | None = None
    col: np.ndarray | None = None


def _engine_layout(j: Any, n_src: int, dtype: Any, weight: np.ndarray) -> _Layout:
    if j.kind in ("dense", "crossbar"):
        delay = None if j.delay is None else np.ascontiguousarray(j.delay.T, dtype=np.int32)
        return _Layout(np.ascontiguousarray(weight.T, dtype=dtype), delay)
    if j.kind == "sparse":
        order = source_order(j.source_index)
        pick = (lambda a: a) if order is None else (lambda a: a[order])  # noqa: E731
        delay = None if j.delay is None else pick(j.delay).astype(np.int32)
        row_ptr = np.searchsorted(pick(j.source_index), np.arange(n_src + 1)).astype(np.int64, copy=False)
        # No copy of weights already in order and type: the engine only reads them.
        return _Layout(pick(weight).astype(dtype, copy=False), delay, row_ptr, pick(j.target_index).astype(np.int32))
    return _Layout(np.ascontiguousarray(weight, dtype=dtype))


def _cached(program: Program, key: str, make: Any) -> Any:
    """``make(program)``, once per (immutable) program: a sweep over inputs pays for the fan-out
    tables and the engine layout of the synapses once."""
    if key not in program.__dict__:
        program.__dict__[key] = make(program)
    return program.__dict__[key]


def _fanout(program: Program) -> list[Any]:
    """The fan-out tables, reading sparse synapses from the engine's layout (built once).  Its
    weights are the program's, scaled by a power of two at most, so zero where those are."""
    layouts = _cached(program, "_engine_layouts", _layouts)
    csr = {j.name: (lay.row_ptr, lay.col, (lay.weight != 0).view(np.uint8))
           for j, lay in zip(program.projections, layouts) if j.kind == "sparse"}
    return engine_fanout_tables(program, engine_module(), csr)


def _layouts(program: Program) -> list[_Layout]:
    dtype = np.int64 if program.arithmetic == "fixed" else np.float64
    pops = program.populations
    return [_engine_layout(j, pops[program.index[j.source]].size, np.float64 if j.kind == "crossbar" else dtype,
                           engine_weight(j, pops[program.index[j.target]].kernel)) for j in program.projections]


def _crossbar_groups(program: Program) -> dict[str, ColumnGroups]:
    """Each crossbar projection's column groups, from where the mapping put its target neurons."""
    out = {}
    for j in program.projections:
        if j.kind == "crossbar":
            t = program.index[j.target]
            own = program.core_of[program.offsets[t]: program.offsets[t] + program.populations[t].size]
            out[j.name] = column_groups(own, j.geometry["tile_cols"], where=j.name)
    return out


def program_inputs(program: Program, inputs: np.ndarray | Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    shapes = {port: program.population(pop).shape for port, pop in program.inputs.items()}
    fixed = program.arithmetic == "fixed"
    return check_inputs(shapes, inputs, integer=fixed, dtype=np.dtype(np.int64 if fixed else np.float64),
                        owner="program")


def _check_magnitudes(program: Program, data: Mapping[str, np.ndarray]) -> None:
    """Fixed point: prove that no accumulator or ``x << input_shift`` can leave int64.

    Bounds each population's summed input from its sources' largest payloads (1 for a spike,
    2**(v_bits-1) for a graded membrane, the input's own maximum, a relay's input bound) and
    each projection's largest absolute row sum.  Neuron and input payloads do not depend on
    what they receive, so back edges from later neurons are bounded; a relay inside a cycle of
    relays only has no finite bound and is refused rather than risked.

    When the weights would be safe with spike (0/1) inputs, the inputs' magnitude is the cause
    and the error names the input port and its largest value, not the weights."""
    if program.arithmetic != "fixed":
        return
    port_of = {n: p for p, n in program.inputs.items()}
    peaks = {n: float(np.abs(data[p]).max()) if data[p].size else 0.0 for n, p in port_of.items()}
    found = _overflow(program, peaks)
    if found is None:
        return
    if _overflow(program, {n: min(v, 1.0) for n, v in peaks.items()}) is None:
        pop_name = max(peaks, key=lambda n: peaks[n])
        k, b, shift, lava_wrap = found
        pop = program.populations[k]
        beyond, limit = ((f"beyond half of its {pop.config['u_bits']}-bit register, which 'lava_wrap' (Lava's Loihi "
                          "model) corrects only once", f"2**{pop.config['u_bits'] - 1}") if lava_wrap else
                         ("beyond the int64 headroom of the fixed-point engine", "2**62"))
        raise SimulationError(
            f"input port {port_of[pop_name]!r} holds values up to {_number(peaks[pop_name])} (largest |value|); "
            f"through the weights into {pop.name!r} a step's summed input can reach {b:.3g} "
            f"(x 2**input_shift = {b * shift:.3g}), {beyond}; with spike inputs (0/1) the weights fit",
            node=port_of[pop_name], parameter="inputs", limit=limit,
            fix="scale the input down: a fixed-point program expects spikes (0/1) or small integers",
        )
    raise _overflow_error(program, *found)


def _number(value: float) -> str:
    """A whole number in full (the input's own value), anything else in short."""
    return str(int(value)) if value.is_integer() and abs(value) < 2.0**63 else f"{value:.6g}"


def _overflow(program: Program, peaks: Mapping[str, float]) -> tuple[int, float, float, bool] | None:
    """The first population whose summed input can overflow, given each input population's
    largest |value|: (index, bound, 2**input_shift, whether it is lava_wrap's half-register rule)."""
    limit = 2.0**62
    pops = program.populations
    payload = np.full(len(pops), np.inf)
    incoming: dict[int, list] = {}
    for j in program.projections:
        incoming.setdefault(program.index[j.target], []).append(j)
    for k, pop in enumerate(pops):
        if pop.kernel == "input":
            payload[k] = peaks[pop.name]
        elif pop.kernel == "cuba_fixed":
            payload[k] = 1.0 if pop.spiking else 2.0 ** (pop.config["v_bits"] - 1)
        elif pop.kernel == "xylo":
            payload[k] = float(pop.config["max_spikes"])

    def bound(k: int) -> float:
        pop = pops[k]
        b = float(np.abs(pop.params["input_bias"]).max()) if "input_bias" in pop.params else 0.0
        for j in incoming.get(k, []):
            w = _row_abs_max(j, program)
            if w:  # an all-zero projection adds nothing, even from an unbounded source (inf * 0 is NaN)
                b += w * payload[program.index[j.source]]
        return b

    # A relay's payload is its input bound; relays fed by later relays (back edges) settle in a
    # later sweep, and each sweep settles at least one more relay unless they form a cycle.
    relays = [k for k, p in enumerate(pops) if p.kernel == "pass"]
    for _ in range(len(relays) + 1):
        changed = False
        for k in relays:
            b = bound(k)
            if b != payload[k]:
                payload[k], changed = b, True
        if not changed:
            break
    for k, pop in enumerate(pops):
        if pop.kernel in ("input", "xylo"):  # a xylo population caps each payload and saturates each addition
            continue
        b = bound(k)
        shift = 2.0 ** pop.config["input_shift"] if pop.kernel == "cuba_fixed" else 1.0
        if pop.kernel == "cuba_fixed" and pop.config["u_overflow"] == "lava_wrap":
            if not b * shift <= 2.0 ** (pop.config["u_bits"] - 1):  # then one correction by 2**u_bits keeps u in range
                return k, b, shift, True
        if not b * shift < limit:
            return k, b, shift, False
    return None


def _overflow_error(program: Program, k: int, b: float, shift: float, lava_wrap: bool) -> ProgramError:
    pop = program.populations[k]
    if lava_wrap:
        return ProgramError(
            f"its summed input can reach {b:.3g} x 2**{pop.config['input_shift']} = {b * shift:.3g}; "
            "'lava_wrap' (Lava's Loihi model) wraps u only once, so one step's input must stay within "
            "half the register", node=pop.name, parameter="weight", limit=f"2**{pop.config['u_bits'] - 1}",
            fix="quantize with smaller weights (a lower scale) or more state bits",
        )
    return ProgramError(
        f"its summed input can reach {b:.3g} (x 2**input_shift = {b * shift:.3g}), beyond int64 headroom",
        node=pop.name, parameter="weight", limit="2**62",
        fix="quantize with smaller weights or inputs, or lower input_shift; "
            "break cycles of relays with a neuron",
    )


def _row_abs_max(j: Any, program: Program) -> float:
    """Largest sum of |weight| into one target neuron (conv: every tap of one output channel)."""
    if not j.weight.size:
        return 0.0
    w = np.abs(j.weight).astype(np.float64)
    if j.kind in ("dense", "crossbar"):
        return float(w.sum(axis=1).max())
    if j.kind == "sparse":
        return float(np.bincount(j.target_index, weights=w).max())
    return float(w.reshape(w.shape[0], -1).sum(axis=1).max())


# Chunks per thread: a C call cannot be interrupted, so a run is cut into several calls per
# thread, and Ctrl-C stops it after the chunks in flight (samples are independent, so chunking
# changes no result).
_CHUNKS_PER_THREAD = 8
# Fewest units of work (synapse words read and neurons updated, as if every neuron fired every
# step) in a chunk: an upper bound on its real work that even a cache-missing engine (about 10^8
# words/s) gets through in about half a second, so Ctrl-C still acts promptly, while a small run
# (the digits model: 2 * 10^5 per sample) is not cut into calls too short to pay their set-up.
_MIN_CHUNK_WORK = 50_000_000
_WORDS = TOTAL_COLUMNS.index("words")


def _sample_step_work(program: Program) -> int:
    """The most work one step of one sample can cost: every neuron updated and every synapse
    word read (each neuron firing once), from the fan-out tables the run has built."""
    tables = _cached(program, "_fanout_tables", _fanout)
    return sum(p.size for p in program.populations) + sum(int(t.totals[:, _WORDS].sum()) for t in tables)


def _chunk_plan(batch: int, n_threads: int, sample_work: int = 0) -> list[tuple[int, int]]:
    """Samples ``[0, batch)`` cut into ``(lo, hi)`` chunks: up to ``_CHUNKS_PER_THREAD`` per
    thread, but (given ``sample_work``, the most work one sample can cost) none under
    ``_MIN_CHUNK_WORK`` unless that would leave a thread without a chunk."""
    per = max(1, -(-batch // (n_threads * _CHUNKS_PER_THREAD)))
    if sample_work > 0 and batch:
        per = max(per, min(-(-_MIN_CHUNK_WORK // sample_work), max(1, batch // n_threads)))
        # as many chunks for every thread, so none is left with an extra one at the end
        n_chunks = -(-batch // per)
        per = -(-batch // (-(-n_chunks // n_threads) * n_threads))
    return [(lo, min(batch, lo + per)) for lo in range(0, batch, per)]


def in_chunks(call: Any, batch: int, n_threads: int, sample_work: int = 0) -> list[int]:
    """``call(lo, hi)`` over the chunks of :func:`_chunk_plan`, spread over ``n_threads``
    threads; the status codes of the calls.  The main thread only waits, so a KeyboardInterrupt
    reaches it; the threads then stop after their current chunk and the interrupt is raised
    again."""
    chunks = _chunk_plan(batch, n_threads, sample_work)
    stop = threading.Event()

    def worker(part: list[tuple[int, int]]) -> int:
        for lo, hi in part:
            if stop.is_set():
                return 0
            code = call(lo, hi)
            if code:
                return int(code)
        return 0

    ex = ThreadPoolExecutor(n_threads)
    futures = [ex.submit(worker, chunks[k::n_threads]) for k in range(min(n_threads, len(chunks)))]
    try:
        while wait(futures, timeout=0.2).not_done:
            pass
    except KeyboardInterrupt:
        stop.set()
        raise
    finally:
        ex.shutdown(wait=True)
    return [f.result() for f in futures]
