"""The target protocol: everything spikec needs of one chip, in one object.

A target is a package ``spikec/targets/<name>/`` (or a third-party package registered under the
``spikec.targets`` entry point) whose ``TARGET`` is a :class:`Target`:

- ``spec``: the chip's limits, each a :class:`~spikec.hardware.Sourced` number;
- ``options``: a dataclass deriving from :class:`~.options.Options`, one field per co-design knob;
- ``compile_fn(graph, options, calibration) -> Compiled``: the passes and the lowering;
- ``costs``, a :class:`~spikec.runtime.cost.CostTable`, or ``price_fn(counters, program) ->
  Estimate``: energy and latency from the engine's counters;
- ``notes_fn(counters, program) -> list[str]``: what a run's report should add (optional);
- ``timing``: steps per synaptic hop, which fixes the pipeline depth of every compiled program;
- ``backends``: named ways to run a compiled program; the C engine (``"emulator"``) always;
- ``weight_sampler(options) -> WeightSampler``: for chips whose devices draw random weights
  themselves (a ReRAM crossbar's programmed-state spread), the distribution of those weights;
  :mod:`spikec.lsm` builds zero-shot reservoirs from it (optional).

Only ``name``, ``spec``, ``compile_fn`` and a price (``costs`` or ``price_fn``) are required.
Users call the methods :meth:`Target.compile`, :meth:`Target.price`, :meth:`Target.notes`, which
check options and results.  README, "Adding a target".
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol, Sequence

import numpy as np

from ..compiler.pipeline import Compiled
from ..errors import SpecError, UnsupportedError
from ..hardware import HardwareSpec, Sourced
from ..ir.graph import Graph
from ..runtime.cost import CostTable, Estimate, estimate
from ..runtime.counters import Counters
from ..runtime.engine import run as run_engine
from ..runtime.program import Program
from .options import Options

__all__ = ["Target", "Timing", "Backend", "BackendRun", "ONE_STEP_PER_HOP", "WeightSampler", "emulator"]

# ``sampler(rng, n)``: n signed random weights as the chip's devices set them, in the devices'
# own unit (a conductance difference, say); whoever uses them rescales (an LSM tunes the scale).
WeightSampler = Callable[[np.random.Generator, int], np.ndarray]


@dataclass(frozen=True)
class Timing:
    """How long a spike takes to cross one synaptic hop on the chip, in steps.

    The IR delivers feed-forward projections within the step; a chip that needs ``steps_per_hop``
    steps per hop gets ``delay_base = steps_per_hop`` on every projection (back edges keep at
    least one), and a run needs ``pipeline_depth`` extra steps for the last input to arrive."""

    steps_per_hop: int
    source: str

    def __post_init__(self) -> None:
        if isinstance(self.steps_per_hop, bool) or not isinstance(self.steps_per_hop, int) or self.steps_per_hop < 0:
            raise SpecError(f"steps_per_hop={self.steps_per_hop!r}", parameter="steps_per_hop",
                            fix="a whole number of steps >= 0 (0: within the step, as the IR)")
        if not self.source:
            raise SpecError("a target's timing needs its source", parameter="timing")


ONE_STEP_PER_HOP = Timing(1, "Lava's Dense sends the previous step's activation; sPyNNaker's minimum delay is one "
                             "tick (spikec.compiler.timing)")


@dataclass(frozen=True)
class BackendRun:
    """What one backend produced for a batch: outputs by port ``(batch, steps, *shape)``, mean
    spikes per neuron per step by spiking population, the hardware counters where the backend
    counts (the emulator), and its wall time in seconds."""

    title: str
    outputs: Mapping[str, np.ndarray]
    rates: Mapping[str, float]
    counters: Counters | None
    steps: int
    wall: float
    detail: str = ""
    recorded: Mapping[str, np.ndarray] = field(default_factory=dict)   # by population, when asked for

    @property
    def output(self) -> np.ndarray:
        if len(self.outputs) != 1:
            raise UnsupportedError(f"the program has {len(self.outputs)} outputs", parameter="output",
                                   fix="pick one from .outputs")
        return next(iter(self.outputs.values()))


class Backend(Protocol):
    def __call__(self, program: Program, inputs: Mapping[str, np.ndarray], steps: int, *,
                 threads: int | None = None) -> BackendRun: ...


def emulator(program: Program, inputs: Mapping[str, np.ndarray], steps: int, *,
             threads: int | None = None, record: Sequence[str] = ()) -> BackendRun:
    """The C engine: the chip's arithmetic and timing as compiled, with its event counters
    (and the events of the populations in ``record``)."""
    t0 = time.perf_counter()
    result = run_engine(program, dict(inputs), steps, threads=threads, record=list(record))
    wall = time.perf_counter() - t0
    batch = max(1, next(iter(inputs.values())).shape[0]) if inputs else 1
    totals = result.counters.by_population()
    rates = {p.name: totals[p.name]["spikes"] / (p.size * result.steps * batch)
             for p in program.populations if p.spiking and result.steps and p.size}
    return BackendRun(f"C engine ({program.arithmetic})", result.outputs, rates, result.counters, result.steps, wall,
                      recorded=result.recorded)


@dataclass(frozen=True)
class Target:
    """One chip; see the module docstring."""

    name: str
    spec: HardwareSpec
    compile_fn: Callable[..., Compiled]             # (graph, options, calibration) -> Compiled
    costs: Any = None                               # a CostTable, or anything with constants()
    price_fn: Callable[[Counters, Program], Estimate] | None = None
    options: type[Options] = Options
    timing: Timing = ONE_STEP_PER_HOP
    backends: Mapping[str, Backend] = field(default_factory=dict)
    notes_fn: Callable[[Counters, Program], list[str]] | None = None
    summary: str = ""
    weight_sampler: Callable[[Options], WeightSampler] | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").isalnum() or self.name != self.name.lower():
            raise SpecError(f"target name {self.name!r}", parameter="name",
                            fix="lower-case letters, digits and '_' (it is typed on the command line)")
        if self.price_fn is None and not isinstance(self.costs, CostTable):
            raise SpecError(f"target {self.name} has neither a CostTable nor a price function", parameter="costs",
                            fix="give costs=CostTable(...) or price_fn=callable(counters, program) -> Estimate")
        if self.options.target != self.name and self.options is not Options:
            raise SpecError(f"target {self.name}'s options class says target = {self.options.target!r}",
                            parameter="options", fix=f"set `target: ClassVar[str] = {self.name!r}` on it")
        if not issubclass(self.options, Options):
            raise SpecError(f"target {self.name}'s options must derive from spikec.targets.options.Options",
                            parameter="options")
        if self.weight_sampler is not None and not callable(self.weight_sampler):
            raise SpecError(f"target {self.name}'s weight_sampler is not callable", parameter="weight_sampler",
                            fix="give a function(options) -> sampler(rng, n) -> n weights")
        for key, backend in dict(self.backends).items():
            if not callable(backend):
                raise SpecError(f"target {self.name}'s backend {key!r} is not callable", parameter="backends",
                                fix="map each name to a function(program, inputs, steps, *, threads) -> BackendRun")
        # The C engine is every target's emulator unless the target brings its own under that name.
        object.__setattr__(self, "backends", {"emulator": emulator, **dict(self.backends)})

    @property
    def title(self) -> str:
        return self.spec.name

    def make_options(self, options: Options | Mapping[str, Any] | None = None) -> Options:
        """``options`` checked against this target's knobs (names, types, ranges)."""
        if isinstance(options, Options):
            if not isinstance(options, self.options):
                raise SpecError(f"options of type {type(options).__name__} given to target {self.name}",
                                parameter="options", fix=f"use {self.options.__name__} or a dict")
            return options
        cls = self.options if self.options is not Options else _named_options(self.name)
        return cls.from_mapping(options)

    def compile(self, graph: Graph, options: Options | Mapping[str, Any] | None = None,
                calibration: Any = None) -> Compiled:
        """Compile ``graph``; the program's metadata then names this target and its pipeline depth."""
        opts = self.make_options(options)
        compiled = self.compile_fn(graph, opts, calibration)
        meta = compiled.program.metadata
        if meta.get("target") != self.name or "pipeline_depth" not in meta:
            raise SpecError(f"target {self.name}'s compile returned a program without its target name and "
                            "pipeline depth", parameter="compile",
                            fix="build on spikec.targets.pipeline.compile_for (it sets both)")
        return compiled

    def price(self, counters: Counters, program: Program) -> Estimate:
        """Energy and latency of a run of ``program`` on this chip."""
        if self.price_fn is not None:
            return self.price_fn(counters, program)
        return estimate(counters, self.costs)

    def notes(self, counters: Counters, program: Program) -> list[str]:
        """What a report of a run on this chip should add (tick overruns on SpiNNaker2, say)."""
        return list(self.notes_fn(counters, program)) if self.notes_fn is not None else []

    def constants(self) -> dict[str, Sourced]:
        """Every constant the price uses, by name, with its source."""
        if isinstance(self.costs, CostTable):
            return {name: getattr(self.costs, name) for name in self.costs.sources()}
        return dict(self.costs.constants()) if self.costs is not None else {}

    def backend(self, name: str) -> Backend:
        if name not in self.backends:
            raise UnsupportedError(f"target {self.name} has no {name} backend", parameter="backend",
                                   fix=f"use one of {list(self.backends)}")
        return self.backends[name]

    def device_weights(self, options: Options | Mapping[str, Any] | None = None) -> WeightSampler:
        """The distribution this chip's devices draw random weights from (see ``weight_sampler``)."""
        if self.weight_sampler is None:
            raise UnsupportedError(f"target {self.name} has no device weight distribution", parameter="weights",
                                   fix="use a software distribution ('gaussian', 'uniform') or a target that "
                                       "declares one (reram)")
        return self.weight_sampler(self.make_options(options))

    def chips(self, program: Program) -> int:
        """Chips a compiled program occupies."""
        from ..compiler.mapping import chips_needed

        return int(program.metadata.get("chips", chips_needed(program.n_cores, self.spec)))


def _named_options(name: str) -> type[Options]:
    # A target without its own knobs still names itself in option errors.
    return dataclasses.make_dataclass(f"{name}_options", [], bases=(Options,), frozen=True,
                                      namespace={"target": name})
