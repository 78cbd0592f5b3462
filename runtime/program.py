"""The Program: the flat, validated form a target lowers a graph to, and the C engine runs.

A program is populations in execution order (each a kernel with per-neuron parameter
arrays), projections between them (dense, sparse or convolution, with per-synapse integer
delays), the neuron-to-core assignment, the cores' mesh coordinates, and named input and
output ports.  Constructing one validates everything the engine relies on, so no program
that exists can crash the engine; :func:`save_program` / :func:`load_program` make a compiled
program an artifact (``.npz``, one JSON header plus the arrays: :mod:`spikec.ir.npzfile`).

Timing: population *p* reads, at step *t*, what its incoming projections delivered for *t*.
A synapse of total delay ``delay_base + delay[k]`` carries an event emitted at step *t* to
step ``t + delay``.  A zero-delay synapse must point to a later population.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import GraphValidationError, ProgramError
from ..hardware.arithmetic import OVERFLOWS, ROUNDINGS
from ..ir import npzfile
from .crossbar import checked_crossbar
from .xylo import XYLO_OPTIONAL, XYLO_PARAMS, check_xylo, checked_xylo_synapses, xylo_settings

__all__ = [
    "KERNELS", "RESETS", "PROJECTION_KINDS", "ROUNDINGS", "OVERFLOWS", "MAX_DELAY",
    "Population", "Projection", "Program", "save_program", "load_program", "is_program_file", "FORMAT",
]

FORMAT = "spikec-program/1"
_HEADER = "__spikec_program__"

# Names mirror the C constants (csrc/engine.h); their order is the C numbering (compared by
# tests/runtime/test_c_tables.py).  KERNELS and PROJECTION_KINDS are the keys of their
# validation tables (_KERNELS, _PROJECTION_KINDS below).
RESETS = ("none", "value", "subtract", "subtract_next")
# Longest synaptic delay in steps: bounds each population's delay ring (ring x size words).
MAX_DELAY = 1 << 16
# Indices are int32 in the engine.
_MAX_SIZE = (1 << 31) - 1

_FLOAT_REQUIRED = ("alpha", "gain", "bias")
_FLOAT_OPTIONAL = ("alpha_syn", "gain_syn", "v_threshold", "v_reset", "fire_scale", "fire_shift", "input_bias",
                   "v_init", "u_init")
_FIXED_REQUIRED = ("du", "dv", "bias", "v_threshold", "v_reset")
_FIXED_OPTIONAL = ("input_bias", "v_init", "u_init")
_FIXED_CONFIG = {
    "decay_bits": 12, "input_shift": 0, "u_bits": 24, "v_bits": 24,
    "u_overflow": "wrap", "v_overflow": "saturate", "rounding": "toward_zero",
}


def _err(msg: str, *, where: str, parameter: str | None = None, limit: Any = None,
         fix: str | None = None) -> ProgramError:
    return ProgramError(msg, node=where, parameter=parameter, limit=limit, fix=fix)


def _frozen(arr: Any, dtype: Any) -> np.ndarray:
    # A read-only array that owns its data (one this module or spikec.ir made) is shared, not
    # copied: a program lowered from a graph, or re-placed, then holds one copy of its synapses.
    if isinstance(arr, np.ndarray) and arr.dtype == np.dtype(dtype) and not arr.flags.writeable and arr.flags.owndata:
        return arr
    out = np.array(arr, dtype=dtype, copy=True)
    out.flags.writeable = False
    return out


def _whole(value: Any) -> int:
    """An integer given as a number (not "3", 2.5, NaN or inf, which int() would take, truncate or overflow on)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{value!r} is not a number")
    if isinstance(value, (float, np.floating)) and not (np.isfinite(value) and value == int(value)):
        raise ValueError(f"{value!r} is not a whole number")
    return int(value)


def _as_array(value: Any, *, where: str, parameter: str, integer: bool) -> np.ndarray:
    """A finite numeric array; integers stay exact (a float holding 2.5 is refused, not truncated)."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise _err(f"cannot be read as numbers ({exc})", where=where, parameter=parameter) from None
    if arr.dtype.kind not in "biuf":
        raise _err(f"has dtype {arr.dtype}, expected numbers", where=where, parameter=parameter)
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise _err("holds NaN or infinite values", where=where, parameter=parameter,
                   fix="replace them with finite values")
    if integer:
        if arr.dtype.kind == "f" and np.any(arr != np.round(arr)):
            raise _err("holds non-integer values", where=where, parameter=parameter,
                       fix="quantize the program (fixed-point programs and indices need whole numbers)")
        if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
            raise _err("holds values beyond int64", where=where, parameter=parameter)
        if arr.dtype.kind == "f" and arr.size and float(np.abs(arr).max()) >= 2.0**62:
            raise _err("holds values beyond the engine's integer range", where=where, parameter=parameter,
                       limit="|x| < 2**62")
        return _frozen(arr, np.int64)
    return _frozen(arr, np.float64)


@dataclass(frozen=True, eq=False)
class Population:
    """Neurons sharing one kernel, with flat per-neuron parameter arrays of length ``size``.

    ``kernel``: ``input`` (values injected from the run's inputs), ``pass`` (outputs its
    summed input, a relay for projections that feed projections), ``cuba_float`` (the float
    current-based LIF family: every spikec.ir float neuron), ``cuba_fixed`` (the integer
    CUBA LIF of :class:`spikec.ir.FixedCubaLIF`) or ``xylo`` (Xylo Audio 2's 16-bit saturating
    neuron with bit-shift decays and up to 31 spikes a step: :mod:`spikec.runtime.xylo`).  A
    non-spiking population emits its value (membrane, or input for ``pass``) as a graded event
    whenever it is non-zero.
    """

    name: str
    kernel: str
    shape: tuple[int, ...]
    params: Mapping[str, np.ndarray] = field(default_factory=dict)
    spiking: bool = False
    reset: str = "none"
    config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def cuba(self) -> bool:
        return "alpha_syn" in self.params

    @property
    def is_neuron(self) -> bool:
        kernel = _kernel(self.kernel)
        return kernel is not None and kernel.neuron


@dataclass(frozen=True, eq=False)
class Projection:
    """Synapses from population ``source`` to population ``target`` (by name).

    - ``dense``: ``weight`` (n_target, n_source), ``delay`` of the same shape or None;
    - ``sparse``: coordinate lists ``target_index``, ``source_index``, ``weight`` (and
      ``delay``), all of length nnz;
    - ``conv``: ``weight`` (c_out, c_in/groups, k_h, k_w) over ``geometry`` with keys
      ``in_shape`` (c, h, w), ``out_shape`` (c, h, w), ``stride``, ``dilation`` (2 each),
      ``padding`` ((top, bottom), (left, right)) and ``groups``; no per-synapse delays.

    Every synapse adds ``delay_base`` steps to its own delay.
    """

    name: str
    source: str
    target: str
    kind: str
    weight: np.ndarray
    delay: np.ndarray | None = None
    delay_base: int = 0
    target_index: np.ndarray | None = None
    source_index: np.ndarray | None = None
    geometry: Mapping[str, Any] = field(default_factory=dict)

    def max_delay(self) -> int:
        return int(self.delay_base) + (int(self.delay.max()) if self.delay is not None and self.delay.size else 0)

    def min_delay(self) -> int:
        return int(self.delay_base) + (int(self.delay.min()) if self.delay is not None and self.delay.size else 0)


@dataclass(frozen=True, eq=False)
class Program:
    """A complete, validated program for the C engine (see the module docstring)."""

    dt: float
    arithmetic: str
    populations: tuple[Population, ...]
    projections: tuple[Projection, ...]
    inputs: Mapping[str, str]
    outputs: Mapping[str, str]
    core_of: np.ndarray | None = None
    core_xy: np.ndarray | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    # Shape an output port reports (a Flatten view of a population, say); default: the population's.
    output_shapes: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "populations", tuple(self.populations))
        object.__setattr__(self, "projections", tuple(self.projections))
        object.__setattr__(self, "inputs", dict(self.inputs))
        object.__setattr__(self, "outputs", dict(self.outputs))
        object.__setattr__(self, "metadata", dict(self.metadata))
        _validate(self)

    @cached_property
    def index(self) -> dict[str, int]:
        """Population name -> position in execution order."""
        return {p.name: i for i, p in enumerate(self.populations)}

    @cached_property
    def offsets(self) -> np.ndarray:
        """Global index of each population's first neuron (``core_of`` is indexed globally)."""
        return np.concatenate([[0], np.cumsum([p.size for p in self.populations])]).astype(np.int64)

    @property
    def n_cores(self) -> int:
        return int(self.core_xy.shape[0])

    @cached_property
    def rings(self) -> np.ndarray:
        """Delay-ring length of each population: longest incoming delay + 1."""
        ring = np.ones(len(self.populations), dtype=np.int64)
        for j in self.projections:
            t = self.index[j.target]
            ring[t] = max(ring[t], j.max_delay() + 1)
        return ring

    def population(self, name: str) -> Population:
        if name not in self.index:
            raise ProgramError(f"no population named {name!r}", fix=f"choose one of {sorted(self.index)}")
        return self.populations[self.index[name]]

    def with_placement(self, core_of: np.ndarray, core_xy: np.ndarray) -> "Program":
        """The same program with another neuron-to-core assignment and core placement."""
        return dataclasses.replace(self, core_of=core_of, core_xy=core_xy)

    def neuron_count(self) -> int:
        return int(sum(p.size for p in self.populations if p.is_neuron))

    def synapse_count(self) -> int:
        """Non-zero *stored weights* (synapse memory): a convolution counts each kernel weight
        once, however many output positions share it.  See :meth:`connection_count`."""
        return int(sum(np.count_nonzero(j.weight) for j in self.projections))

    def connection_count(self) -> int:
        """Non-zero *connections* (source neuron -> target neuron pairs, what a synaptic event
        travels): a convolution counts each kernel weight once per output position whose tap
        falls inside the input (not on padding).  Equal to :meth:`synapse_count` for dense and
        sparse projections; larger for convolutions, whose weights are shared."""
        return int(sum(_connections(j) for j in self.projections))


def _connections(j: Projection) -> int:
    if j.kind != "conv":
        return int(np.count_nonzero(j.weight))
    g = j.geometry
    per_tap = np.count_nonzero(j.weight, axis=(0, 1))  # (k_h, k_w): non-zero weights at each tap
    valid = [_positions(g["in_shape"][1 + a], g["out_shape"][1 + a], j.weight.shape[2 + a], g["stride"][a],
                        g["dilation"][a], g["padding"][a][0]) for a in (0, 1)]
    return int(np.sum(per_tap * np.outer(valid[0], valid[1])))


def _positions(n_in: int, n_out: int, k: int, stride: int, dilation: int, pad: int) -> np.ndarray:
    """For each of ``k`` taps along one axis, the output positions at which it reads the input."""
    at = np.arange(n_out, dtype=np.int64)[:, None] * stride - pad + np.arange(k, dtype=np.int64)[None, :] * dilation
    return ((at >= 0) & (at < n_in)).sum(axis=0)


# --- validation --------------------------------------------------------------------------------


def _validate(prog: Program) -> None:
    if prog.arithmetic not in ("float", "fixed"):
        raise _err(f"is {prog.arithmetic!r}", where="program", parameter="arithmetic", fix="use 'float' or 'fixed'")
    if not isinstance(prog.dt, (int, float)) or not np.isfinite(prog.dt) or prog.dt <= 0:
        raise _err(f"is {prog.dt!r}", where="program", parameter="dt", limit="a finite time step > 0 (seconds)")
    if not prog.populations:
        raise _err("has no populations", where="program", parameter="populations")
    pops = _checked_items(prog.populations, Population, "populations",
                          lambda pop: _checked_population(pop, prog.arithmetic, prog.dt))
    object.__setattr__(prog, "populations", tuple(pops))
    index = {p.name: i for i, p in enumerate(pops)}
    total = sum(p.size for p in pops)
    if total > _MAX_SIZE:
        raise _err(f"has {total} neurons in all", where="program", parameter="populations", limit=_MAX_SIZE)
    projs = _checked_items(prog.projections, Projection, "projections",
                           lambda j: _checked_projection(j, index, pops, prog.arithmetic))
    object.__setattr__(prog, "projections", tuple(projs))
    _check_instant_back_edges(projs, index)
    for port, kind in ((prog.inputs, "inputs"), (prog.outputs, "outputs")):
        for key, pop in port.items():
            if not isinstance(key, str) or pop not in index:
                raise _err(f"port {key!r} names population {pop!r}, which does not exist", where="program",
                           parameter=kind)
    fed = set(prog.inputs.values())
    for key, pop in prog.inputs.items():
        if pops[index[pop]].kernel != "input":
            raise _err(f"port {key!r} names population {pop!r}, whose kernel is not 'input'", where="program",
                       parameter="inputs")
    for p in pops:
        if p.kernel == "input" and p.name not in fed:
            raise _err("is an input population that no input port feeds", where=p.name, parameter="inputs",
                       fix="add it to Program.inputs")
    if len(set(prog.inputs.values())) != len(prog.inputs):
        raise _err("two ports feed the same population", where="program", parameter="inputs")
    object.__setattr__(prog, "output_shapes", _checked_output_shapes(prog, pops, index))
    _check_placement(prog, total)
    _check_pipeline_depth(prog)


def _check_pipeline_depth(prog: Program) -> None:
    """``metadata["pipeline_depth"]`` (steps a run adds for the last input to arrive) is a whole
    number no longer than the longest possible feed-forward path: one hop per population, each
    at most :data:`MAX_DELAY` steps.  Runs allocate per step, so a forged depth is refused here."""
    if "pipeline_depth" not in prog.metadata:
        return
    value = prog.metadata["pipeline_depth"]
    limit = max(len(prog.populations) - 1, 0) * MAX_DELAY
    try:
        depth = _whole(value)
    except (TypeError, ValueError):
        raise _err(f"is {value!r}, not a whole number of steps", where="program", parameter="pipeline_depth",
                   fix="recompile the model (the target's compile sets it)") from None
    if not 0 <= depth <= limit:
        raise _err(f"is {depth} steps, beyond what {len(prog.populations)} populations can delay an input",
                   where="program", parameter="pipeline_depth",
                   limit=f"0 <= depth <= (populations - 1) x MAX_DELAY = {limit}",
                   fix="recompile the model (the target's compile sets it)")


def _checked_output_shapes(prog: Program, pops: list[Population], index: dict[str, int]) -> dict[str, tuple[int, ...]]:
    given = dict(prog.output_shapes)
    unknown = set(given) - set(prog.outputs)
    if unknown:
        raise _err(f"names ports {sorted(unknown)} that are not outputs", where="program", parameter="output_shapes")
    shapes = {}
    for port, pop_name in prog.outputs.items():
        pop = pops[index[pop_name]]
        try:
            shape = tuple(_whole(v) for v in given.get(port, pop.shape))
        except (TypeError, ValueError) as exc:
            raise _err(f"port {port!r}: {exc}", where="program", parameter="output_shapes") from None
        if not shape or min(shape) < 1 or int(np.prod(shape, dtype=np.float64)) != pop.size:
            raise _err(f"port {port!r} has shape {shape} for population {pop_name!r} of {pop.size} neurons",
                       where="program", parameter="output_shapes", fix="give a shape with as many elements")
        shapes[port] = shape
    return shapes


def _checked_items(items: tuple, cls: type, kind: str, check: Any) -> list:
    """Each item of the right type, with a unique non-empty name, passed through ``check``."""
    seen: set[str] = set()
    out = []
    for item in items:
        if not isinstance(item, cls):
            raise _err(f"holds a {type(item).__name__}, expected {cls.__name__}", where="program", parameter=kind)
        if not isinstance(item.name, str) or not item.name or item.name in seen:
            raise _err(f"name {item.name!r} is empty, not a string or repeated", where="program", parameter=kind)
        seen.add(item.name)
        out.append(check(item))
    return out


@dataclass(frozen=True)
class _Kernel:
    """What a population of one kernel must be (checked by :func:`_checked_population`)."""

    arithmetic: str | None = None            # the one program arithmetic it runs in (None: either)
    required: tuple[str, ...] = ()           # parameters it needs
    optional: tuple[str, ...] = ()           # parameters it may have
    required_if_spiking: tuple[str, ...] = ()
    neuron: bool = False                     # a neuron: it may spike
    # Rules of its own on the checked parameters: check(pop, params) raises or returns nothing.
    check: Callable[[Population, dict[str, np.ndarray]], None] | None = None
    # Its settings, checked and completed: settings(pop, params, config, shape, dt) -> config.
    # None: it takes no settings.
    settings: Callable[..., dict[str, Any]] | None = None


def _checked_population(pop: Population, arithmetic: str, dt: float) -> Population:
    where = pop.name
    kernel = _kernel(pop.kernel)
    if kernel is None:
        raise _err(f"kernel {pop.kernel!r} is unknown", where=where, parameter="kernel", fix=f"use one of {KERNELS}")
    try:
        shape = tuple(_whole(s) for s in pop.shape)
    except (TypeError, ValueError):
        raise _err(f"shape {pop.shape!r} is not a tuple of integers", where=where, parameter="shape") from None
    if not shape or min(shape) < 1 or int(np.prod(shape, dtype=np.float64)) > _MAX_SIZE:
        raise _err(f"shape {shape} must have sizes >= 1", where=where, parameter="shape", limit=f"size <= {_MAX_SIZE}")
    size = int(np.prod(shape))
    if kernel.arithmetic not in (None, arithmetic):
        raise _err(f"kernel {pop.kernel!r} cannot run in a {arithmetic} program", where=where, parameter="kernel",
                   fix="quantize float neurons to cuba_fixed, or build a float program")
    if pop.reset not in RESETS:
        raise _err(f"reset {pop.reset!r} is unknown", where=where, parameter="reset", fix=f"use one of {RESETS}")
    integer = arithmetic == "fixed"
    required = kernel.required + (kernel.required_if_spiking if pop.spiking else ())
    allowed = required + kernel.optional
    params: dict[str, np.ndarray] = {}
    for key, value in dict(pop.params).items():
        if key not in allowed:
            raise _err(f"parameter {key!r} does not belong to kernel {pop.kernel!r}", where=where, parameter=key,
                       fix=f"allowed: {sorted(allowed)}")
        arr = _as_array(value, where=where, parameter=key, integer=integer).reshape(-1)
        if arr.shape != (size,):
            raise _err(f"has {arr.size} values for {size} neurons", where=where, parameter=key,
                       fix="give one value per neuron (broadcast explicitly)")
        params[key] = arr
    for key in required:
        if key not in params:
            raise _err(f"kernel {pop.kernel!r} needs parameter {key!r}", where=where, parameter=key)
    if pop.spiking and not kernel.neuron:
        raise _err(f"kernel {pop.kernel!r} cannot spike", where=where, parameter="spiking")
    if kernel.check is not None:
        kernel.check(pop, params)
    config = dict(pop.config)
    if kernel.settings is not None:
        config = kernel.settings(pop, params, config, shape, dt)
    elif config:
        raise _err(f"kernel {pop.kernel!r} takes no settings, got {sorted(config)}", where=where, parameter="config")
    return dataclasses.replace(pop, shape=shape, params=params, config=config, spiking=bool(pop.spiking))


def _check_float(pop: Population, params: dict[str, np.ndarray]) -> None:
    where = pop.name
    if ("alpha_syn" in params) != ("gain_syn" in params):
        raise _err("alpha_syn and gain_syn come together (the synaptic current)", where=where, parameter="gain_syn")
    if ("fire_scale" in params) != ("fire_shift" in params):
        raise _err("fire_scale and fire_shift come together (membrane batch-norm)", where=where, parameter="fire_shift")
    if pop.spiking and pop.reset == "value" and "v_reset" not in params:
        raise _err("reset 'value' needs v_reset", where=where, parameter="v_reset")


def _fixed_settings(pop: Population, params: dict[str, np.ndarray], config: dict[str, Any], shape: tuple[int, ...],
                    dt: float) -> dict[str, Any]:
    where = pop.name
    unknown = set(config) - set(_FIXED_CONFIG)
    if unknown:
        raise _err(f"unknown settings {sorted(unknown)}", where=where, parameter="config",
                   fix=f"allowed: {sorted(_FIXED_CONFIG)}")
    config = {**_FIXED_CONFIG, **config}
    # The engine stores these in int32 fields: "12" or 12.5 would pass FixedCubaLIF's int()
    # and then fail (or be truncated) when the program runs.
    for key in ("decay_bits", "input_shift", "u_bits", "v_bits"):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise _err(f"is {value!r}, expected an integer", where=where, parameter=key)
        config[key] = int(value)
    _check_fixed(pop, params, config, shape, dt)
    return config


def _check_fixed(pop: Population, params: dict[str, np.ndarray], config: dict[str, Any], shape: tuple[int, ...],
                 dt: float) -> None:
    """Same limits as the IR's FixedCubaLIF (reused, so the two can never disagree)."""
    from ..ir.fixed import FixedCubaLIF

    try:
        node = FixedCubaLIF(
            **{k: params[k].reshape(shape) for k in _FIXED_REQUIRED},
            reset=pop.reset, spiking_output=pop.spiking, **config,
        )
        node.check(pop.name, dt)
    except GraphValidationError as exc:
        raise ProgramError(exc.detail, node=pop.name, parameter=exc.parameter, limit=exc.limit, fix=exc.fix) from None
    except (TypeError, ValueError) as exc:
        raise _err(f"settings are unusable ({exc})", where=pop.name, parameter="config") from None
    for key, bits in (("u_init", config["u_bits"]), ("v_init", config["v_bits"])):
        lim = (1 << (bits - 1)) - 1
        if key in params and params[key].size and np.abs(params[key]).max() > lim:
            raise _err(f"magnitude {np.abs(params[key]).max()} does not fit {bits} bits", where=pop.name,
                       parameter=key, limit=f"<= {lim}")


# Every kernel, in the C numbering (csrc/engine.h SK_INPUT, ...): a new kernel is one entry.
_KERNELS: dict[str, _Kernel] = {
    "input": _Kernel(),
    "pass": _Kernel(optional=("input_bias",)),
    "cuba_float": _Kernel("float", _FLOAT_REQUIRED, _FLOAT_OPTIONAL, required_if_spiking=("v_threshold",), neuron=True,
                          check=_check_float),
    "cuba_fixed": _Kernel("fixed", _FIXED_REQUIRED, _FIXED_OPTIONAL, neuron=True, settings=_fixed_settings),
    "xylo": _Kernel("fixed", XYLO_PARAMS, XYLO_OPTIONAL, neuron=True, check=check_xylo, settings=xylo_settings),
}
KERNELS = tuple(_KERNELS)


def _kernel(name: Any) -> _Kernel | None:
    return _KERNELS.get(name) if isinstance(name, str) else None


def _checked_projection(j: Projection, index: dict[str, int], pops: list[Population], arithmetic: str) -> Projection:
    where = j.name
    for role in ("source", "target"):
        if getattr(j, role) not in index:
            raise _err(f"{role} population {getattr(j, role)!r} does not exist", where=where, parameter=role)
    src, dst = pops[index[j.source]], pops[index[j.target]]
    if dst.kernel == "input":
        raise _err(f"targets the input population {dst.name!r}", where=where, parameter="target",
                   fix="input populations are fed by the run's inputs only")
    checked_kind = _PROJECTION_KINDS.get(j.kind) if isinstance(j.kind, str) else None
    if checked_kind is None:
        raise _err(f"kind {j.kind!r} is unknown", where=where, parameter="kind", fix=f"use one of {PROJECTION_KINDS}")
    fixed = arithmetic == "fixed"
    # A crossbar's weights are analog (programmed conductances) in either arithmetic.
    weight = _as_array(j.weight, where=where, parameter="weight", integer=fixed and j.kind not in _ANALOG_KINDS)
    delay = None if j.delay is None else _as_array(j.delay, where=where, parameter="delay", integer=True)
    try:
        base = _whole(j.delay_base)
    except (TypeError, ValueError):
        raise _err(f"is {j.delay_base!r}", where=where, parameter="delay_base") from None
    changes: dict[str, Any] = {"weight": weight, "delay": delay, "delay_base": base}
    changes.update(checked_kind(j, weight, delay, src, dst, fixed))
    if dst.kernel == "xylo":  # which current it feeds, its weight shift and event cap (runtime/xylo.py)
        changes["geometry"] = checked_xylo_synapses(j, weight, delay, dst)
    if base < 0 or (delay is not None and delay.size and delay.min() < 0):
        raise _err("delays must be >= 0", where=where, parameter="delay")
    out = dataclasses.replace(j, **changes)
    if out.max_delay() > MAX_DELAY:
        raise _err(f"longest delay is {out.max_delay()} steps", where=where, parameter="delay", limit=MAX_DELAY,
                   fix="shorten the delay or relay it through intermediate neurons (map_delays)")
    return out


def _check_instant_back_edges(projs: list[Projection], index: dict[str, int]) -> None:
    """A zero-delay projection must point to a later population.  One that points back and
    closes a cycle of zero-delay projections is an algebraic loop (each population of it would
    need its own output of the same step), which no population order can run; say so."""
    instant = [j for j in projs if j.min_delay() == 0]
    forward: dict[str, list[str]] = {}
    for j in instant:
        if index[j.target] > index[j.source]:
            forward.setdefault(j.source, []).append(j.target)
    for j in instant:
        if index[j.target] > index[j.source]:
            continue
        loop = _path(forward, j.target, j.source)
        if loop is not None:
            raise _err(
                f"closes a loop with no delay, {' -> '.join(loop + [j.target])}: within one step each population "
                "of it would need its own result (an algebraic loop)",
                where=j.name, parameter="delay_base",
                fix="give one projection of the loop a delay (delay_base=1), as spikec's recurrent edges have",
            )
        raise _err(
            f"carries zero-delay synapses from {j.source!r} back to {j.target!r}, which runs first",
            where=j.name, parameter="delay_base",
            fix="order populations so that zero-delay projections point forward, or give the back edge delay_base=1",
        )


def _path(forward: Mapping[str, list[str]], start: str, goal: str) -> list[str] | None:
    """Populations from ``start`` to ``goal`` along ``forward`` edges (breadth first), or None."""
    before: dict[str, str | None] = {start: None}
    queue = [start]
    for here in queue:
        if here == goal:
            path = [here]
            while before[path[-1]] is not None:
                path.append(before[path[-1]])  # type: ignore[arg-type]
            return path[::-1]
        for nxt in forward.get(here, []):
            if nxt not in before:
                before[nxt] = here
                queue.append(nxt)
    return None


# The checkers of each projection kind's own fields (see _PROJECTION_KINDS), given the checked
# weights and delays: check(j, weight, delay, source, target, fixed) -> the checked fields it adds.
def _checked_dense(j: Projection, weight: np.ndarray, delay: np.ndarray | None, src: Population,
                   dst: Population, fixed: bool) -> dict[str, Any]:
    if weight.shape != (dst.size, src.size):
        raise _err(f"has shape {weight.shape}, expected (target {dst.size}, source {src.size})", where=j.name,
                   parameter="weight")
    if delay is not None and delay.shape != weight.shape:
        raise _err(f"has shape {delay.shape}, the weights {weight.shape}", where=j.name, parameter="delay")
    return {}


def _checked_sparse(j: Projection, weight: np.ndarray, delay: np.ndarray | None, src: Population,
                    dst: Population, fixed: bool) -> dict[str, Any]:
    where = j.name
    if weight.ndim != 1:
        raise _err(f"must be 1-D (one value per synapse), got shape {weight.shape}", where=where, parameter="weight")
    indices = {}
    for key, limit in (("target_index", dst.size), ("source_index", src.size)):
        if getattr(j, key) is None:
            raise _err("is missing", where=where, parameter=key)
        idx = _as_array(getattr(j, key), where=where, parameter=key, integer=True)
        if idx.shape != weight.shape:
            raise _err(f"has shape {idx.shape}, the weights {weight.shape}", where=where, parameter=key)
        if idx.size and (idx.min() < 0 or idx.max() >= limit):
            raise _err(f"index out of range [{idx.min()}, {idx.max()}]", where=where, parameter=key,
                       limit=f"0 <= index < {limit}")
        indices[key] = idx
    if delay is not None and delay.shape != weight.shape:
        raise _err(f"has shape {delay.shape}, the weights {weight.shape}", where=where, parameter="delay")
    return indices


def _checked_conv(j: Projection, weight: np.ndarray, delay: np.ndarray | None, src: Population,
                  dst: Population, fixed: bool) -> dict[str, Any]:
    geometry = _checked_geometry(j, weight, src, dst)
    if delay is not None:
        raise _err("convolutions carry no per-synapse delays", where=j.name, parameter="delay",
                   fix="use delay_base, or expand the convolution to a sparse projection")
    return {"geometry": geometry}


def _checked_geometry(j: Projection, weight: np.ndarray, src: Population, dst: Population) -> dict[str, Any]:
    where = j.name
    g = dict(j.geometry)
    try:
        geo = {
            "in_shape": tuple(int(v) for v in g["in_shape"]),
            "out_shape": tuple(int(v) for v in g["out_shape"]),
            "stride": tuple(int(v) for v in g["stride"]),
            "dilation": tuple(int(v) for v in g["dilation"]),
            "padding": tuple(tuple(int(v) for v in pair) for pair in g["padding"]),
            "groups": int(g["groups"]),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise _err(f"is incomplete or not integers ({exc!r})", where=where, parameter="geometry",
                   fix="give in_shape, out_shape, stride, dilation, padding and groups") from None
    if len(geo["in_shape"]) != 3 or len(geo["out_shape"]) != 3 or len(geo["stride"]) != 2 or len(geo["dilation"]) != 2 \
            or len(geo["padding"]) != 2 or any(len(p) != 2 for p in geo["padding"]):
        raise _err(f"has the wrong number of entries: {geo}", where=where, parameter="geometry")
    (cin, hin, win), (cout, hout, wout) = geo["in_shape"], geo["out_shape"]
    if min(geo["in_shape"] + geo["out_shape"]) < 1 or min(geo["stride"] + geo["dilation"]) < 1 or geo["groups"] < 1 \
            or min(min(p) for p in geo["padding"]) < 0:
        raise _err(f"has sizes, strides or dilations below 1, or negative padding: {geo}", where=where,
                   parameter="geometry")
    if cin * hin * win != src.size or cout * hout * wout != dst.size:
        raise _err(f"in_shape {geo['in_shape']} / out_shape {geo['out_shape']} do not match populations of "
                   f"{src.size} and {dst.size} neurons", where=where, parameter="geometry")
    groups = geo["groups"]
    if cin % groups or cout % groups or weight.shape[:2] != (cout, cin // groups) or weight.ndim != 4:
        raise _err(f"weight shape {weight.shape} does not fit {cin}->{cout} channels in {groups} groups",
                   where=where, parameter="weight", fix="expect (c_out, c_in/groups, k_h, k_w)")
    for axis, (n_in, n_out) in enumerate(((hin, hout), (win, wout))):
        k, s, d, (p0, p1) = weight.shape[2 + axis], geo["stride"][axis], geo["dilation"][axis], geo["padding"][axis]
        expect = (n_in + p0 + p1 - d * (k - 1) - 1) // s + 1
        if n_out != expect:
            raise _err(f"output size {n_out} along axis {axis} should be {expect}", where=where, parameter="geometry")
        # The engine indexes with int32 (y + padding - tap * dilation, strides): keep every
        # intermediate inside it.
        if max(n_in + p0 + p1 + d * (k - 1), s, d) >= 1 << 31:
            raise _err(f"stride {s}, dilation {d} or padding {(p0, p1)} along axis {axis} "
                       "exceeds the engine's int32 range",
                       where=where, parameter="geometry", limit="< 2**31")
    return geo


# Every projection kind, in the C numbering (csrc/engine.h SK_DENSE, ...): a new kind is one entry.
_PROJECTION_KINDS: dict[str, Callable[..., dict[str, Any]]] = {
    "dense": _checked_dense,
    "sparse": _checked_sparse,
    "conv": _checked_conv,
    "crossbar": checked_crossbar,   # runtime/crossbar.py
}
PROJECTION_KINDS = tuple(_PROJECTION_KINDS)
_ANALOG_KINDS = ("crossbar",)


def _check_core_count(shape: tuple[int, ...], total: int) -> None:
    """At most one core per neuron: runs count per core and step, so a forged count of cores
    would make every run allocate for each of them."""
    if len(shape) >= 1 and shape[0] > max(total, 1):
        raise _err(f"places {shape[0]} cores for {total} neurons; a core holds at least one neuron",
                   where="program", parameter="core_xy", limit=f"n_cores <= {max(total, 1)} (the neuron count)",
                   fix="list only the cores that neurons are mapped to (recompile the model)")


def _check_placement(prog: Program, total: int) -> None:
    if prog.core_of is None or prog.core_xy is None:
        if prog.core_of is not None or prog.core_xy is not None:
            raise _err("core_of and core_xy come together", where="program", parameter="core_xy")
        # Default: one core per population, in a row (a partition pass replaces this).
        core_of = np.repeat(np.arange(len(prog.populations), dtype=np.int64), [p.size for p in prog.populations])
        core_xy = np.stack([np.arange(len(prog.populations)), np.zeros(len(prog.populations), dtype=np.int64)], axis=1)
    else:
        _check_core_count(np.shape(prog.core_xy), total)  # before converting what may be a forged 10^7 rows
        core_of = _as_array(prog.core_of, where="program", parameter="core_of", integer=True)
        core_xy = _as_array(prog.core_xy, where="program", parameter="core_xy", integer=True)
    if core_xy.ndim != 2 or core_xy.shape[1] != 2 or core_xy.shape[0] < 1:
        raise _err(f"has shape {core_xy.shape}, expected (n_cores >= 1, 2)", where="program", parameter="core_xy")
    if core_xy.min() < 0 or core_xy.max() > 1 << 20:
        raise _err("mesh coordinates must lie in [0, 2**20]", where="program", parameter="core_xy")
    if core_of.shape != (total,):
        raise _err(f"has shape {core_of.shape}, expected ({total},): one core per neuron", where="program",
                   parameter="core_of")
    if core_of.size and (core_of.min() < 0 or core_of.max() >= core_xy.shape[0]):
        raise _err(f"names cores [{core_of.min()}, {core_of.max()}]", where="program", parameter="core_of",
                   limit=f"0 <= core < {core_xy.shape[0]}")
    object.__setattr__(prog, "core_of", core_of)
    object.__setattr__(prog, "core_xy", core_xy)


# --- files -----------------------------------------------------------------------------------


def save_program(program: Program, path: str | os.PathLike) -> None:
    """Write ``program`` to ``path`` (``.npz``): a compiled artifact that :func:`load_program` reads."""
    arrays: dict[str, np.ndarray] = {"core_of": program.core_of, "core_xy": program.core_xy}
    pops = []
    for i, p in enumerate(program.populations):
        for k, v in p.params.items():
            arrays[f"pop{i}.{k}"] = v
        pops.append({"name": p.name, "kernel": p.kernel, "shape": list(p.shape), "spiking": p.spiking,
                     "reset": p.reset, "config": dict(p.config), "params": sorted(p.params)})
    projs = []
    for i, j in enumerate(program.projections):
        fields = {}
        for key in ("weight", "delay", "target_index", "source_index"):
            if getattr(j, key) is not None:
                arrays[f"proj{i}.{key}"] = getattr(j, key)
                fields[key] = f"proj{i}.{key}"
        projs.append({"name": j.name, "source": j.source, "target": j.target, "kind": j.kind,
                      "delay_base": j.delay_base, "geometry": dict(j.geometry), "arrays": fields})
    header = {"format": FORMAT, "dt": program.dt, "arithmetic": program.arithmetic, "populations": pops,
              "projections": projs, "inputs": program.inputs, "outputs": program.outputs, "metadata": program.metadata,
              "output_shapes": {k: list(v) for k, v in program.output_shapes.items()}}
    npzfile.write(path, _HEADER, header, arrays)


def is_program_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an ``.npz`` written by :func:`save_program` (and not, say, a graph).

    A missing or foreign file is not; one that cannot be read at all (permission denied, a
    directory, empty, a truncated or damaged zip) raises :class:`ProgramError` saying which."""
    return npzfile.is_file(path, _HEADER, ProgramError)


def load_program(path: str | os.PathLike) -> Program:
    """Read a program written by :func:`save_program`; it is validated like a new one."""
    with npzfile.read(path, _HEADER, version=FORMAT, what="program", error=ProgramError,
                      fix="save it with save_program()") as (header, arrays):
        return _program_from(path, header, arrays)


def _program_from(path: str | os.PathLike, header: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> Program:
    try:
        pops = [
            Population(name=p["name"], kernel=p["kernel"], shape=tuple(p["shape"]), spiking=p["spiking"],
                       reset=p["reset"], config=p["config"], params={k: arrays[f"pop{i}.{k}"] for k in p["params"]})
            for i, p in enumerate(header["populations"])
        ]
        projs = [
            Projection(name=j["name"], source=j["source"], target=j["target"], kind=j["kind"],
                       delay_base=j["delay_base"], geometry=j["geometry"],
                       **{k: arrays[v] for k, v in j["arrays"].items()})
            for j in header["projections"]
        ]
        return Program(dt=header["dt"], arithmetic=header["arithmetic"], populations=tuple(pops),
                       projections=tuple(projs), inputs=header["inputs"], outputs=header["outputs"],
                       output_shapes={k: tuple(v) for k, v in header.get("output_shapes", {}).items()},
                       core_of=arrays["core_of"], core_xy=arrays["core_xy"], metadata=header.get("metadata", {}))
    except ProgramError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged header is one user-facing error, never a traceback
        raise ProgramError(f"{os.fspath(path)!r} is damaged ({type(exc).__name__}: {exc})") from None
