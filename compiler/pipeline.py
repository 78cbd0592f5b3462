"""The compile pipeline: a list of passes, each registered by name, run in order.

A :class:`Pass` is a name, a one-line description and a function ``run(ir, spec, options) ->
(ir, record)``; :func:`register_pass` adds one to :data:`PASSES`.  Graph passes read and
return a :class:`~spikec.ir.graph.Graph`; ``lower`` turns the graph into a
:class:`~spikec.runtime.program.Program`; program passes (``map``) follow it.

``compile_graph(graph, spec)`` runs :data:`DEFAULT_PASSES`, fold_batchnorm → fuse_linear → map_delays →
quantize (when ``arithmetic="fixed"``) → lower → map (partition, place, route onto the spec's
cores), or the names given as ``passes=``, and keeps every pass's record, so ``spikec compile
--explain`` can say what each one did.  Every step is also callable alone
(``spikec.compiler.passes``, ``spikec.compiler.lower``, ``spikec.compiler.mapping``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..errors import UnsupportedError
from ..hardware import HardwareSpec
from ..ir.graph import Graph
from ..runtime.program import Program
from .lower import lower
from .passes import fold_batchnorm, fuse_linear, map_delays, quantize
from .passes.base import PassRecord

__all__ = [
    "Compiled", "CompileOptions", "Pass", "PASSES", "DEFAULT_PASSES", "available_passes", "register_pass",
    "compile_graph",
]


@dataclass(frozen=True)
class Compiled:
    """What compiling produced: the transformed graph, its program and the pass records."""

    graph: Graph
    program: Program
    records: tuple[PassRecord, ...]

    def explain(self) -> str:
        return "\n".join(r.explain() for r in self.records)


@dataclass(frozen=True)
class CompileOptions:
    """The knobs of :func:`compile_graph` that a pass may read."""

    arithmetic: str = "fixed"
    weight_bits: int | None = None
    per_channel: bool = False
    calibration: np.ndarray | Mapping[str, np.ndarray] | None = None


@dataclass(frozen=True)
class Pass:
    """One named step.  ``reads``/``makes``: ``"graph"`` or ``"program"``, what ``run`` takes
    and returns; ``arithmetic``: the arithmetics it applies to (the default list drops it
    under the others)."""

    name: str
    description: str
    run: Callable[[Any, HardwareSpec, CompileOptions], tuple[Any, PassRecord]]
    reads: str = "graph"
    makes: str = "graph"
    arithmetic: tuple[str, ...] = ("fixed", "float")


PASSES: dict[str, Pass] = {}
DEFAULT_PASSES: tuple[str, ...] = ("fold_batchnorm", "fuse_linear", "map_delays", "quantize", "lower", "map")
_KINDS = ("graph", "program")


def register_pass(name: str, description: str, *, reads: str = "graph", makes: str | None = None,
                  arithmetic: Sequence[str] = ("fixed", "float")) -> Callable[[Callable], Callable]:
    """Decorator: register ``run(ir, spec, options) -> (ir, record)`` as the pass ``name``."""
    makes = makes or reads
    if name in PASSES:
        raise UnsupportedError(f"a pass named {name!r} is already registered", parameter="name",
                               fix="give the new pass another name")
    if reads not in _KINDS or makes not in _KINDS:
        raise UnsupportedError(f"pass {name!r} reads {reads!r} and makes {makes!r}", parameter="reads",
                               fix=f"use one of {', '.join(_KINDS)}")

    def add(run: Callable) -> Callable:
        PASSES[name] = Pass(name, description, run, reads, makes, tuple(arithmetic))
        return run

    return add


def available_passes() -> dict[str, str]:
    """Every registered pass: name -> one-line description, in registration order."""
    return {p.name: p.description for p in PASSES.values()}


# --- the passes -------------------------------------------------------------------------------


@register_pass("fold_batchnorm", "fold BatchNorm into the projection before it and MembraneBatchNorm "
               "into its neurons' thresholds")
def _fold_batchnorm(graph: Graph, spec: HardwareSpec, options: CompileOptions) -> tuple[Graph, PassRecord]:
    step = fold_batchnorm(graph, spec)
    return step.graph, step.record


@register_pass("fuse_linear", "fuse chains of linear maps (pooling -> convolution, Linear -> Linear, ...) into one "
               "projection where that is exact")
def _fuse_linear(graph: Graph, spec: HardwareSpec, options: CompileOptions) -> tuple[Graph, PassRecord]:
    step = fuse_linear(graph, spec)
    return step.graph, step.record


@register_pass("map_delays", "split projections whose synaptic delays exceed the chip's range into "
               "axonal Delay chains plus in-range residual delays")
def _map_delays(graph: Graph, spec: HardwareSpec, options: CompileOptions) -> tuple[Graph, PassRecord]:
    step = map_delays(graph, spec)
    return step.graph, step.record


@register_pass("quantize", "scale weights, biases and thresholds to the chip's integer widths "
               "(FixedCubaLIF populations)", arithmetic=("fixed",))
def _quantize(graph: Graph, spec: HardwareSpec, options: CompileOptions) -> tuple[Graph, PassRecord]:
    step = quantize(graph, spec, weight_bits=options.weight_bits, per_channel=options.per_channel,
                    calibration=options.calibration)
    return step.graph, step.record


@register_pass("lower", "turn the graph into the program the engine and the targets run "
               "(flat populations and synapse projections)", makes="program")
def _lower(graph: Graph, spec: HardwareSpec, options: CompileOptions) -> tuple[Program, PassRecord]:
    program = lower(graph, arithmetic=options.arithmetic)
    return program, PassRecord("lower", (), {
        "populations": len(program.populations), "projections": len(program.projections),
        "neurons": program.neuron_count(), "synapses": program.synapse_count(),
    })


@register_pass("map", "partition the program's neurons onto cores, place the cores on the chip mesh, "
               "route the spikes", reads="program")
def _map(program: Program, spec: HardwareSpec, options: CompileOptions) -> tuple[Program, PassRecord]:
    from .mapping import map_program  # METIS and the mesh code load only when a pass list maps

    mapped = map_program(program, spec)
    return mapped.program, mapped.record


# --- choosing and running them ------------------------------------------------------------------


def _pass_list(passes: Sequence[str] | str | None, arithmetic: str) -> list[Pass]:
    """The passes to run, checked: known, each once, 'lower' present, 'quantize' present when
    fixed, and every pass fed the form (graph or program) it reads."""
    if passes is None:
        return [PASSES[n] for n in DEFAULT_PASSES if arithmetic in PASSES[n].arithmetic]
    names = [n.strip() for n in passes.split(",") if n.strip()] if isinstance(passes, str) else list(passes)
    known = ", ".join(PASSES)
    for n in names:
        if n not in PASSES:
            raise UnsupportedError(f"there is no pass named {n!r}; the passes are: {known}", parameter="passes",
                                   fix="pick names from that list")
        if names.count(n) > 1:
            raise UnsupportedError(f"pass {n!r} is listed {names.count(n)} times", parameter="passes",
                                   fix="list each pass once")
        if arithmetic not in PASSES[n].arithmetic:
            raise UnsupportedError(f"pass {n!r} does not apply with arithmetic={arithmetic!r}", parameter="passes",
                                   fix=f"drop it, or compile with arithmetic={PASSES[n].arithmetic[0]!r}")
    if "lower" not in names:
        raise UnsupportedError("the pass list has no 'lower', which makes the program every target runs: it is "
                               f"mandatory (default order: {', '.join(DEFAULT_PASSES)})", parameter="passes",
                               fix="add 'lower' after the graph passes")
    if arithmetic == "fixed" and "quantize" not in names:
        raise UnsupportedError("arithmetic='fixed' makes 'quantize' mandatory: only a quantized graph lowers to "
                               "integer neurons", parameter="passes",
                               fix="add 'quantize' before 'lower', or compile with arithmetic='float'")
    holds = "graph"
    for n in names:
        p = PASSES[n]
        if p.reads != holds:
            raise UnsupportedError(f"pass {n!r} works on the {p.reads}, but at that point the pipeline holds the "
                                   f"{holds}", parameter="passes",
                                   fix="put graph passes before 'lower' and program passes (map) after it")
        holds = p.makes
    return [PASSES[n] for n in names]


def compile_graph(
    graph: Graph,
    spec: HardwareSpec,
    *,
    arithmetic: str = "fixed",
    weight_bits: int | None = None,
    per_channel: bool = False,
    calibration: np.ndarray | Mapping[str, np.ndarray] | None = None,
    passes: Sequence[str] | None = None,
) -> Compiled:
    """Compile ``graph`` for ``spec``: ``arithmetic="fixed"`` quantizes to the chip's widths,
    ``"float"`` keeps float neurons (an idealised chip, or to see the effect of each pass).
    ``passes`` (names, in order, or one comma-separated string) replaces :data:`DEFAULT_PASSES`;
    see :func:`available_passes`."""
    if arithmetic not in ("fixed", "float"):
        raise UnsupportedError(f"arithmetic={arithmetic!r}", parameter="arithmetic", fix="use 'fixed' or 'float'")
    options = CompileOptions(arithmetic, weight_bits, per_channel, calibration)
    ir: Any = graph
    records = []
    for p in _pass_list(passes, arithmetic):
        ir, record = p.run(ir, spec, options)
        records.append(record)
        if p.makes == "graph":
            graph = ir
    return Compiled(graph, ir, tuple(records))
