"""Constant inputs carried by an always-on neuron: how a chip receives a bias it cannot hold.

A projection bias is added to the synaptic current ``u`` every step (``input_bias``).  Two
lowerings need it moved out of the neuron:

- a **relay on a recurrent loop**: the lowering puts a biased projection on a recurrent edge
  through a ``pass`` population (its bias must not arrive at step 0, when the recurrent edge
  delivers nothing).  On a chip every synaptic hop takes a step, so the relay would lengthen the
  loop by one step and the chip would compute something else.  The relay is dissolved: its
  synapses go straight into the population it fed, the recurrent step added, and its bias
  becomes a constant input starting at that step;
- a population that runs behind the graph on the chip (``h`` hops from the inputs, ``h * k``
  steps late: below) would start adding its projection bias ``h * k`` steps before its first
  input arrives, and carry that head start in its state: its bias is moved out so that it starts
  at the population's first step of the graph;
- a chip whose neuron model has no place for a bias into a *decaying* current (Lava's LIF has
  its bias on the membrane; ``targets/loihi2``) moves every such bias out the same way.

A *membrane* bias (the neuron's own ``bias``) cannot travel on a synapse into the current unless
that current does not outlive the step; it stays, and the compile record names every population
that starts integrating it before its first input, with the number of steps.

A bias that became what it is, a constant input, arrives from one **always-on neuron** (a LIF
whose bias exceeds its threshold, so it fires every step from step 0) through synapses whose
weights are the bias, split into pieces that fit the chip's weights.  Exact on the chip's
timing: a population ``P`` that is ``h`` hops from the inputs runs ``h * k`` steps behind the
graph (``k`` steps per hop); the bias synapses into ``P`` get the delay ``s + h*k - k`` (``s``:
the graph step the bias starts at; the always-on neuron's own hop is the ``k``), so the chip's
``P`` at step ``t + h*k`` equals the graph's ``P`` at step ``t``.  Where that delay exceeds the
chip's delay range the compile is refused, naming the error of the closest encoding.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import UnsupportedError
from ..runtime.program import Population, Program, Projection

__all__ = ["ALWAYS_ON", "Bias", "LoweredBiases", "lower_biases", "chip_shifts", "split_to_fit",
           "needs_lowering"]

ALWAYS_ON = "always_on"       # name of the always-on population (a suffix keeps it unique)
# Most synapses one bias may take per neuron: beyond that the weights' scale is wrong for it (and
# a bias of 2**40 weight steps would ask for 2**40 synapses).
MAX_PIECES = 64

# ``split(value) -> [(label, piece)]``: integer bias values (one per neuron) as pieces that each
# fit one of the chip's synapses and add up to the value, each with a suffix for its projection's
# name ('<<7': a digit times 2**7); a float program takes its bias in one piece.
Splitter = Callable[[np.ndarray], list[tuple[str, np.ndarray]]]


@dataclass(frozen=True)
class Bias:
    """A constant input of ``value`` (per neuron, synaptic units) into ``target`` from graph step ``start``."""

    target: str
    start: int
    value: np.ndarray
    origin: str        # what the compile record says it is


@dataclass(frozen=True)
class LoweredBiases:
    """A program whose biases arrive from ``source`` (None: none had to move), and what moved."""

    program: Program
    source: str | None
    biases: tuple[Bias, ...]
    shifts: dict[str, int]
    dissolved: tuple[str, ...] = ()     # relays taken out
    head_start: dict[str, int] = dataclasses.field(default_factory=dict)   # membrane bias, steps early

    def notes(self) -> list[tuple[str, str]]:
        """(population, what the chip does differently from the graph) for the compile record."""
        return [(name, f"its membrane bias starts {steps} chip step(s) before its first input (as on the chip: "
                       "a bias on the membrane cannot be delayed)") for name, steps in self.head_start.items()]

    @property
    def changed(self) -> bool:
        """Whether populations came or went (a placed program must be mapped again)."""
        return self.source is not None or bool(self.dissolved)

    def synapses(self) -> int:
        return int(sum(np.count_nonzero(b.value) for b in self.biases))


def split_to_fit(weight_bits: int) -> Splitter:
    """Pieces no larger than the widest signed weight of ``weight_bits`` bits, as equal as integers
    allow: a bias of ``n`` times the largest weight takes ``ceil(n)`` synapses per neuron."""
    widest = (1 << (weight_bits - 1)) - 1

    def split(value: np.ndarray) -> list[tuple[str, np.ndarray]]:
        if value.dtype.kind == "f":
            return [("", value)] if np.any(value) else []
        mag = np.abs(value.astype(np.int64))
        count = int(-(-mag.max(initial=0) // widest))
        if count > MAX_PIECES:
            raise UnsupportedError(
                f"a bias of {int(mag.max())} is {count} times the widest {weight_bits}-bit weight ({widest}): it would "
                f"take {count} synapses per neuron from the always-on neuron", parameter="input_bias",
                limit=f"<= {MAX_PIECES} x {widest}",
                fix="compile with more weight bits, or scale the layer so its bias is closer to its weights")
        sign = np.sign(value).astype(np.int64)
        return [("", sign * ((mag + count - 1 - k) // count)) for k in range(count)]

    return split


def needs_lowering(program: Program) -> bool:
    """Whether ``program`` has a relay :func:`lower_biases` would dissolve."""
    return any(_dissolvable(program, p) for p in program.populations)


def lower_biases(program: Program, *, steps_per_hop: int, split: Splitter, max_delay: int | None,
                 decaying: Callable[[Population], bool] | None = None) -> LoweredBiases:
    """``program`` (graph timing, before the chip's hop latency) with relays dissolved and the biases
    they carried, plus those ``decaying`` selects, arriving from an always-on neuron; then the
    chip's timing (``steps_per_hop`` per hop) with every bias synapse aligned to its population's
    lag.  ``max_delay``: the chip's longest synaptic delay (None: unbounded)."""
    from ..compiler.timing import hop_latency

    moved, biases = _moved_biases(program, decaying, steps_per_hop)
    dissolved = tuple(p.name for p in program.populations if p.name not in moved.index)
    source = None
    if biases:
        moved, source = _with_always_on(moved, biases, split)
    moved = hop_latency(moved, steps_per_hop)
    shifts = chip_shifts(moved, source, steps_per_hop)
    if source is not None:
        moved = _aligned(moved, source, shifts, steps_per_hop, max_delay)
    head_start = {p.name: shifts[p.name] for p in moved.populations
                  if shifts[p.name] and p.kernel in ("cuba_fixed", "cuba_float") and np.any(p.params["bias"])}
    return LoweredBiases(moved, source, tuple(biases), shifts, dissolved, head_start)


# --- dissolving relays and taking biases out ---------------------------------------------------------


def _moved_biases(program: Program, decaying: Callable[[Population], bool] | None,
                  steps_per_hop: int) -> tuple[Program, list[Bias]]:
    biases: list[Bias] = []
    pops, projs = list(program.populations), list(program.projections)
    for relay in [p for p in pops if _dissolvable(program, p)]:
        biases += _dissolve(relay, pops, projs)
    late = chip_shifts(dataclasses.replace(program, populations=tuple(pops), projections=tuple(projs), core_of=None,
                                           core_xy=None), None, steps_per_hop) if steps_per_hop else {}
    for k, pop in enumerate(pops):
        bias = pop.params.get("input_bias")
        if bias is None or not np.any(bias):
            continue
        into_decaying = decaying is not None and decaying(pop)
        if late.get(pop.name, 0) or into_decaying:
            why = "into a decaying current" if into_decaying else \
                f"(the population starts {late[pop.name]} chip step(s) before its first input)"
            biases.append(Bias(pop.name, 0, bias, f"the bias of its input projections {why}"))
            pops[k] = dataclasses.replace(pop, params={n: v for n, v in pop.params.items() if n != "input_bias"})
    if len(pops) == len(program.populations) and not biases:
        return program, []
    return dataclasses.replace(program, populations=tuple(pops), projections=tuple(projs), core_of=None,
                               core_xy=None), biases


def _dissolve(relay: Population, pops: list[Population], projs: list[Projection]) -> list[Bias]:
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
    return [Bias(out.target, out.delay_base, bias, origin)] if bias is not None and np.any(bias) else []


def _dissolvable(program: Program, pop: Population) -> bool:
    """A relay whose one outgoing projection copies it, element for element and without delays,
    into a neuron population: its synapses can go straight there."""
    if pop.kernel != "pass" or pop.name in program.outputs.values():
        return False
    outs = [j for j in program.projections if j.source == pop.name]
    if len(outs) != 1 or program.population(outs[0].target).kernel not in ("cuba_fixed", "cuba_float"):
        return False
    j = outs[0]
    idx = np.arange(pop.size)
    return (j.kind == "sparse" and j.weight.size == pop.size and np.all(j.weight == 1)
            and np.array_equal(j.source_index, idx) and np.array_equal(j.target_index, idx)
            and (j.delay is None or not np.any(j.delay)))


# --- the always-on neuron ----------------------------------------------------------------------------


def _always_on(name: str, like: Population) -> Population:
    """A one-neuron population of ``like``'s kind that fires at every step from step 0: no current
    carried over, a bias of 1 above a threshold of 0 (fixed) or 0.5 (float), reset to 0."""
    one = np.ones(1, np.int64)
    if like.kernel == "cuba_fixed":
        full = one << int(like.config["decay_bits"])
        params = {"du": full, "dv": 0 * one, "bias": one, "v_threshold": 0 * one, "v_reset": 0 * one}
    else:
        f = np.ones(1)
        params = {"alpha": 0 * f, "gain": f, "bias": f, "v_threshold": 0.5 * f, "v_reset": 0 * f}
    return Population(name, like.kernel, (1,), params, spiking=True, reset="value", config=dict(like.config))


def _with_always_on(program: Program, biases: list[Bias], split: Splitter) -> tuple[Program, str]:
    """``program`` with the always-on population first and synapses carrying each bias, delayed by
    its start step (graph timing), in pieces that fit the chip's weights."""
    name = next(f"{ALWAYS_ON}{k or ''}" for k in range(len(program.populations) + 1)
                if f"{ALWAYS_ON}{k or ''}" not in program.index)
    source = _always_on(name, program.population(biases[0].target))
    taken = {j.name for j in program.projections}
    projections = []
    for b in biases:
        try:
            pieces = split(b.value)
        except UnsupportedError as exc:
            raise UnsupportedError(exc.detail, node=b.target, parameter=exc.parameter, limit=exc.limit,
                                   fix=exc.fix) from None
        for suffix, piece in pieces:
            idx = np.flatnonzero(piece)
            base = f"{name}->{b.target}@{b.start}{suffix}"
            label = next(f"{base}{'#' + str(k) if k else ''}" for k in range(len(taken) + 1)
                         if f"{base}{'#' + str(k) if k else ''}" not in taken)
            taken.add(label)
            projections.append(Projection(label, name, b.target, "sparse", piece[idx], np.full(idx.size, b.start),
                                          0, target_index=idx, source_index=np.zeros(idx.size, np.int64)))
    return dataclasses.replace(program, populations=(source,) + program.populations,
                               projections=program.projections + tuple(projections), core_of=None,
                               core_xy=None), name


# --- chip timing ---------------------------------------------------------------------------------


def chip_shifts(program: Program, skip: str | None, steps_per_hop: int = 1) -> dict[str, int]:
    """Steps each population runs behind the graph on the chip: its longest path of feed-forward
    hops from the inputs times the steps per hop (a recurrent edge takes its step in the graph
    too); ``skip``'s synapses (the always-on neuron's) carry no input and do not count."""
    index = program.index
    shift = dict.fromkeys(index, 0)
    forward = sorted((j for j in program.projections if index[j.source] < index[j.target] and j.source != skip),
                     key=lambda j: index[j.target])
    for j in forward:
        shift[j.target] = max(shift[j.target], shift[j.source] + steps_per_hop)
    return shift


def _aligned(program: Program, source: str, shifts: dict[str, int], steps_per_hop: int,
             max_delay: int | None) -> Program:
    """The always-on synapses into each population delayed by its shift, less their own hop."""
    projections = []
    for j in program.projections:
        if j.source == source:
            delay = j.delay + (shifts[j.target] - steps_per_hop)
            if delay.size and delay.min() < 0:
                raise UnsupportedError(
                    f"its bias would have to arrive {-int(delay.min())} step(s) before the always-on neuron's first "
                    "spike can reach it", node=j.target, parameter="input_bias", limit="delays >= 0",
                    fix="feed this population from an input, or train it without projection biases")
            if max_delay is not None and delay.size and delay.max() > max_delay:
                raise UnsupportedError(
                    f"its bias into a decaying current must start {int(delay.max())} steps after the always-on "
                    f"neuron's first spike; the nearest encoding, the bias arriving {max_delay} steps after it, would "
                    f"add it {int(delay.max()) - max_delay} steps before the graph does", node=j.target,
                    parameter="input_bias", limit=f"delays <= {max_delay}",
                    fix="shorten the path from the inputs to this population, or train it without projection biases")
            j = dataclasses.replace(j, delay=delay)
        projections.append(j)
    return dataclasses.replace(program, projections=tuple(projections))
