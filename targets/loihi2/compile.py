"""Compile a graph for Loihi 2: the shared passes under :data:`LOIHI2_SPEC`, the bias lowering
below, the chip's timing, then a check that Lava's Loihi processes can express every population
and projection.

**Biases into a decaying current.**  A projection bias is added to the synaptic current ``u``
every step (``input_bias``), but Lava's LIF has its bias on the membrane ``v``; the two agree
only when ``u`` does not outlive the step (``du = 4096``), where :mod:`.encode` moves the bias
into ``v``.  Elsewhere the bias becomes what it is, a constant input: one **always-on neuron**
(a LIF whose bias exceeds its threshold of 0, so it fires every step from step 0) sends it
through synapses whose weights are the bias (split into 7-bit digits, each its own Lava
connection with a weight exponent, where it does not fit 8 bits).  Exact on both sides:

- timing: on the chip a population ``P`` that is ``h`` hops from the inputs runs ``h`` steps
  behind the graph (every hop takes a step).  The bias synapses into ``P`` get the delay
  ``s + h - 1`` (``s``: the graph step the bias starts at; the always-on neuron's own hop is
  the ``1``), so the chip's ``P`` at step ``t + h`` equals the graph's ``P`` at step ``t``;
- a biased projection on a recurrent edge lowers to a relay (its bias must not arrive at step
  0, when the recurrent edge delivers nothing); here the relay is dissolved, its synapses go
  straight into ``P`` with the recurrent step, and its bias starts at step ``s = 1``.

Where the needed delay exceeds the chip's 63 steps the compile is refused, naming the error of
the closest encoding (the bias arriving that many steps early).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ...compiler.mapping import map_program
from ...compiler.passes.base import Change, PassRecord
from ...compiler.pipeline import Compiled, compile_graph
from ...compiler.timing import hop_latency
from ...errors import UnsupportedError
from ...ir.graph import Graph
from ...runtime.program import Population, Program, Projection
from ..options import Options, option, weight_bits_option
from ..protocol import ONE_STEP_PER_HOP
from .encode import DECAY_BITS, MAX_DELAY, encode
from .spec import LOIHI2_SPEC

__all__ = ["Loihi2Options", "compile_loihi2", "ALWAYS_ON"]

ALWAYS_ON = "always_on"       # name of the always-on population (a suffix keeps it unique)
_DIGIT_BITS = 7               # bias digits fit a mixed-sign Lava weight (7 bits + sign)


@dataclass(frozen=True)
class Loihi2Options(Options):
    target: ClassVar[str] = "loihi2"

    weight_bits: int | None = weight_bits_option(LOIHI2_SPEC.weight_bits)
    per_channel: bool = option(False, type="bool", choices=(False,),
                               source="Lava's LIF has one vth per process (lava-nc 0.10 PyLifModelBitAcc)",
                               help="per-channel scales become per-neuron thresholds; quantize per layer for Loihi 2")
    arithmetic: str = option("fixed", type="str", choices=("fixed",), source="Loihi 2 neurons are integer (Lava "
                             "fixed_pt models)", help="Loihi 2 is integer; use another target to keep float neurons")


@dataclass(frozen=True)
class _Bias:
    """A constant input of ``value`` (per neuron, synaptic units) into ``target`` from graph step ``start``."""

    target: str
    start: int
    value: np.ndarray
    origin: str        # what the record says it is


def compile_loihi2(graph: Graph, options: Options | None = None, calibration: Any = None) -> Compiled:
    """``graph`` compiled for Loihi 2: quantized per layer to the spec's widths (Lava's fixed-point
    LIF arithmetic), mapped onto cores, every synaptic hop taking one step.  The program runs on
    the C engine (the emulator) and, through :func:`~.backend.run_lava`, on Lava, bit for bit alike."""
    options = options if options is not None else Loihi2Options()
    compiled = compile_graph(graph, LOIHI2_SPEC, arithmetic=options.arithmetic, weight_bits=options.weight_bits,
                             per_channel=options.per_channel, calibration=calibration, passes=options.passes)
    records = list(compiled.records)
    program, biases = _moved_biases(compiled.program)
    source = None
    if biases:
        program, source = _with_always_on(program, biases)
    if program is not compiled.program and any(r.name == "map" for r in records):
        mapped = map_program(program, LOIHI2_SPEC)     # the populations changed: map them again
        program = mapped.program
        records = [mapped.record if r.name == "map" else r for r in records]
    program = hop_latency(program, ONE_STEP_PER_HOP.steps_per_hop)
    shifts = _shifts(program, source)
    if source is not None:
        program = _aligned(program, source, shifts)
    depth = _depth(program, source)
    program = dataclasses.replace(program, metadata={**program.metadata, "target": "loihi2",
                                                     "options": options.as_dict(), "pipeline_depth": depth})
    records.append(_record(program, biases, source, shifts, depth))
    return Compiled(compiled.graph, program, tuple(records))


def _record(program: Program, biases: list[_Bias], source: str | None, shifts: dict[str, int],
            depth: int) -> PassRecord:
    net = encode(program)
    changes = tuple(
        Change(b.target, f"{b.origin} into a decaying current: {int(np.count_nonzero(b.value))} synapse(s) "
                         f"from the always-on neuron '{source}', from graph step {b.start} (chip step "
                         f"{b.start + shifts[b.target]})", {"bias_synapses": int(np.count_nonzero(b.value))})
        for b in biases
    ) + tuple(
        Change(lif.name, f"LIF du={lif.du} dv={lif.dv} vth={lif.vth} (x 2**6), bias exponents "
                         f"{int(lif.bias_exp.min())}..{int(lif.bias_exp.max())}",
               {"du": lif.du, "dv": lif.dv, "vth": lif.vth})
        for lif in net.lifs
    ) + tuple(
        Change(c.name, f"{'Delay' if c.delay is not None else ''}{'Dense' if c.dense else 'Sparse'} "
                       f"{c.sign_mode}, weight_exp {c.weight_exp}, {c.src.size:,} synapses",
               {"sign_mode": c.sign_mode, "weight_exp": c.weight_exp, "synapses": int(c.src.size)})
        for c in net.connections
    )
    return PassRecord("loihi2", changes, {
        "timing": "every projection delay_base=1 (one step per synaptic hop)",
        "lif_processes": len(net.lifs), "connection_processes": len(net.connections),
        "always_on_neurons": int(source is not None), "pipeline_depth": depth,
    })


# --- biases that Lava's LIF cannot hold ------------------------------------------------------------


def _moved_biases(program: Program) -> tuple[Program, list[_Bias]]:
    """``program`` (graph timing) with bias relays on recurrent edges dissolved and the biases into
    decaying currents taken out, and those biases."""
    biases: list[_Bias] = []
    pops, projs = list(program.populations), list(program.projections)
    for relay in [p for p in pops if _dissolvable(program, p)]:
        biases += _dissolve(relay, pops, projs)
    for k, pop in enumerate(pops):
        if _decaying_bias(pop):
            biases.append(_Bias(pop.name, 0, pop.params["input_bias"], "the bias of its input projections"))
            pops[k] = dataclasses.replace(pop, params={n: v for n, v in pop.params.items() if n != "input_bias"})
    if len(pops) == len(program.populations) and not biases:
        return program, []
    return dataclasses.replace(program, populations=tuple(pops), projections=tuple(projs), core_of=None,
                               core_xy=None), biases


def _dissolve(relay: Population, pops: list[Population], projs: list[Projection]) -> list[_Bias]:
    """Take ``relay`` out of ``pops``: its incoming synapses go where its one projection went, that
    projection's steps added (in place); its bias, if any, is returned to start at those steps."""
    (out,) = [j for j in projs if j.source == relay.name]
    for k, j in enumerate(projs):
        if j.target == relay.name:
            name = j.name[: -len(relay.name)] + out.target if j.name.endswith(relay.name) else f"{j.name}#r"
            projs[k] = dataclasses.replace(j, name=name, target=out.target, delay_base=j.delay_base + out.delay_base)
    projs.remove(out)
    pops.remove(relay)
    bias = relay.params.get("input_bias")
    origin = f"the bias of '{relay.name}' (a recurrent projection, from the next step)"
    return [_Bias(out.target, out.delay_base, bias, origin)] if bias is not None and np.any(bias) else []


def _dissolvable(program: Program, pop: Population) -> bool:
    """A relay whose one outgoing projection copies it, element for element and without delays,
    into a fixed-point neuron population: its synapses can go straight there."""
    if pop.kernel != "pass" or pop.name in program.outputs.values():
        return False
    outs = [j for j in program.projections if j.source == pop.name]
    if len(outs) != 1 or program.population(outs[0].target).kernel != "cuba_fixed":
        return False
    j = outs[0]
    idx = np.arange(pop.size)
    return (j.kind == "sparse" and j.weight.size == pop.size and np.all(j.weight == 1)
            and np.array_equal(j.source_index, idx) and np.array_equal(j.target_index, idx)
            and (j.delay is None or not np.any(j.delay)))


def _decaying_bias(pop: Population) -> bool:
    """A projection bias into a current that outlives the step (the LIF's own bias cannot hold it)."""
    return (pop.kernel == "cuba_fixed" and "input_bias" in pop.params and bool(np.any(pop.params["input_bias"]))
            and bool(np.any(pop.params["du"] != 1 << DECAY_BITS)))


def _with_always_on(program: Program, biases: list[_Bias]) -> tuple[Program, str]:
    """``program`` with the always-on population first and synapses carrying each bias, delayed by
    its start step (graph timing), in 7-bit digits."""
    name = next(f"{ALWAYS_ON}{k or ''}" for k in range(len(program.populations) + 1)
                if f"{ALWAYS_ON}{k or ''}" not in program.index)
    one = np.ones(1, np.int64)
    source = Population(name, "cuba_fixed", (1,), {"du": one << DECAY_BITS, "dv": 0 * one, "bias": one,
                                                   "v_threshold": 0 * one, "v_reset": 0 * one},
                        spiking=True, reset="value", config=_fixed_config(program, biases[0].target))
    taken = {j.name for j in program.projections}
    projections = []
    for b in biases:
        for shift, digit in _digits(b.value.astype(np.int64)):
            idx = np.flatnonzero(digit)
            base = f"{name}->{b.target}@{b.start}" + (f"<<{shift}" if shift else "")
            label = next(f"{base}{'#' + str(k) if k else ''}" for k in range(len(taken) + 1)
                         if f"{base}{'#' + str(k) if k else ''}" not in taken)
            taken.add(label)
            projections.append(Projection(label, name, b.target, "sparse", digit[idx], np.full(idx.size, b.start),
                                          0, target_index=idx, source_index=np.zeros(idx.size, np.int64)))
    return dataclasses.replace(program, populations=(source,) + program.populations,
                               projections=program.projections + tuple(projections), core_of=None,
                               core_xy=None), name


def _fixed_config(program: Program, like: str) -> dict[str, Any]:
    """The register settings of the chip's LIF (those of any population the bias feeds)."""
    return dict(program.population(like).config)


def _digits(value: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """``value`` as signed base-2**7 digits ``(shift, digit << shift)``: each is a multiple of
    ``2**shift`` whose quotient fits 7 bits and a sign (one Lava weight), non-zero digits only."""
    sign, mag = np.sign(value), np.abs(value)
    out = []
    shift = 0
    while np.any(mag >> shift):
        digit = sign * (((mag >> shift) & ((1 << _DIGIT_BITS) - 1)) << shift)
        if np.any(digit):
            out.append((shift, digit))
        shift += _DIGIT_BITS
    return out


# --- chip timing ---------------------------------------------------------------------------------


def _shifts(program: Program, skip: str | None) -> dict[str, int]:
    """Steps each population runs behind the graph on the chip: its longest path of feed-forward
    hops from the inputs (a recurrent edge takes its step in the graph too)."""
    index = program.index
    shift = dict.fromkeys(index, 0)
    forward = sorted((j for j in program.projections if index[j.source] < index[j.target] and j.source != skip),
                     key=lambda j: index[j.target])
    for j in forward:
        shift[j.target] = max(shift[j.target], shift[j.source] + 1)
    return shift


def _aligned(program: Program, source: str, shifts: dict[str, int]) -> Program:
    """The always-on synapses into each population delayed by its shift, less their own hop."""
    projections = []
    for j in program.projections:
        if j.source == source:
            delay = j.delay + (shifts[j.target] - 1)
            if delay.size and delay.max() > MAX_DELAY:
                raise UnsupportedError(
                    f"its bias into a decaying current must start {int(delay.max())} steps after the always-on "
                    f"neuron's first spike; the nearest Lava encoding, the bias arriving from chip step 1, would add "
                    f"it {int(delay.max())} steps before the graph does", node=j.target, parameter="input_bias",
                    limit=f"delays <= {MAX_DELAY} (6-bit DelaySparse)",
                    fix="shorten the path from the inputs to this population, or train it without projection biases")
            j = dataclasses.replace(j, delay=delay)
        projections.append(j)
    return dataclasses.replace(program, projections=tuple(projections))


def _depth(program: Program, skip: str | None) -> int:
    """Steps an input needs to reach the last population (its longest delay per hop), not counting
    the always-on neuron's synapses, which carry no input."""
    index = program.index
    depth = dict.fromkeys(index, 0)
    forward = sorted((j for j in program.projections if index[j.source] < index[j.target] and j.source != skip),
                     key=lambda j: index[j.target])
    for j in forward:
        depth[j.target] = max(depth[j.target], depth[j.source] + j.max_delay())
    return max(depth.values(), default=0)
