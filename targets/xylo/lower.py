"""A compiled program as a Xylo Audio 2 configuration: which population is input, hidden or
output, the weight matrices, and the bit-shift decays nearest to the program's decays.

What maps exactly: weights (8-bit), thresholds (the engine fires on ``v > theta``, Xylo on
``v >= theta + 1``: the same for integers), biases (8-bit), one step per hidden hop.  What Xylo
approximates, and the record says by how much: a decay ``1 - d / 2**D`` becomes ``1 - 2**-dash``
(the nearest dash); an instantaneous current (a LIF, ``du = 2**D``) gets the fastest synapse
that passes charge (dash 1: Xylo decays a current in the step it arrives, so dash 0 would drop
it); a reset to a value becomes Xylo's reset by subtraction.  Everything else is refused with
the limit it breaks and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...compiler.passes.base import Change, PassRecord
from ...errors import ResourceLimitError, UnsupportedError
from ...runtime.program import Program
from ...runtime.synapses import expand
from .reference import MAX_DASH, STATE_MAX, XyloNet
from .spec import XYLO_A2, XyloChip

__all__ = ["XyloMapping", "to_xylo", "read_xylo", "is_xylo_program", "plain_mapping"]


@dataclass(frozen=True)
class XyloMapping:
    """The configuration, which program population each Xylo unit came from (hidden populations
    take consecutive ranges of Xylo's hidden neurons, in program order), and the record."""

    net: XyloNet
    input: str
    hidden: tuple[str, ...]
    hidden_sizes: tuple[int, ...]
    output: str
    record: PassRecord


def _dash(d: np.ndarray, decay_bits: int, lowest: int) -> np.ndarray:
    """Nearest bit-shift decay to a per-step decrement ``d / 2**decay_bits`` (``d = 0``: the slowest)."""
    frac = np.asarray(d, float) / (1 << decay_bits)
    with np.errstate(divide="ignore"):
        dash = np.where(frac > 0, np.rint(-np.log2(np.where(frac > 0, frac, 1.0))), MAX_DASH)
    return np.clip(dash, lowest, MAX_DASH).astype(np.int64)


def _roles(program: Program) -> tuple[str, list[str], str]:
    if len(program.inputs) != 1 or len(program.outputs) != 1:
        raise UnsupportedError(
            f"target xylo: the program has {len(program.inputs)} inputs and {len(program.outputs)} outputs",
            parameter="ports", limit="one input and one output port",
            fix="merge the inputs (or outputs) into one population")
    inp, out = next(iter(program.inputs.values())), next(iter(program.outputs.values()))
    hidden = []
    for pop in program.populations:
        if pop.name in (inp, out):
            continue
        if pop.kernel != "cuba_fixed" or not pop.spiking:
            raise UnsupportedError(
                f"target xylo: population kernel {pop.kernel!r} (spiking={pop.spiking})", node=pop.name,
                parameter="kernel", limit="spiking integer LIF neurons",
                fix="compile with arithmetic=fixed; Xylo's hidden neurons all spike")
        hidden.append(pop.name)
    out_pop = program.population(out)
    if out_pop.kernel != "cuba_fixed" or not out_pop.spiking:
        raise UnsupportedError(f"target xylo: output kernel {out_pop.kernel!r} (spiking={out_pop.spiking})", node=out,
                               parameter="kernel", limit="spiking integer LIF readout neurons",
                               fix="end the network with a spiking LIF layer")
    return inp, hidden, out


def _check_sizes(n_in: int, n_hid: int, n_out: int, fan_in: np.ndarray, names: list[str], chip: XyloChip) -> None:
    for what, n, limit, fix in (
            ("input channels", n_in, chip.inputs, "reduce the input features (pool or select channels)"),
            ("hidden neurons", n_hid, chip.hidden, "use fewer or smaller hidden layers"),
            ("output neurons", n_out, chip.outputs, "use at most 8 classes (or one-vs-rest outputs)")):
        if n > limit.value:
            raise ResourceLimitError(f"target xylo: the network has {n} {what}; Xylo Audio 2 has {limit.value}",
                                     parameter=what.replace(" ", "_"), limit=f"{limit.value} ({limit.source})", fix=fix)
    if fan_in.size and fan_in.max() > chip.fan_in.value:
        worst = int(np.argmax(fan_in))
        local = worst - names.index(names[worst])
        raise ResourceLimitError(
            f"target xylo: neuron {local} of population '{names[worst]}' has {fan_in.max()} non-zero input synapses",
            node=names[worst], parameter="fan_in",
            limit=f"{chip.fan_in.value} ({chip.fan_in.source})",
            fix="prune each neuron to its strongest 63 inputs (magnitude pruning) and retrain")


def to_xylo(program: Program, chip: XyloChip = XYLO_A2) -> XyloMapping:
    """The Xylo configuration of ``program`` (see the module docstring); a compiled Xylo program
    (of ``xylo`` populations) is read back as it is (:func:`read_xylo`)."""
    if is_xylo_program(program):
        return read_xylo(program)
    inp, hidden, out = _roles(program)
    sizes = {p.name: p.size for p in program.populations}
    off = dict(zip(hidden, np.cumsum([0] + [sizes[h] for h in hidden])[:-1].tolist()))
    n_in, n_hid, n_out = sizes[inp], sum(sizes[h] for h in hidden), sizes[out]
    w_in = np.zeros((n_in, n_hid, 2), np.int64)
    w_rec = np.zeros((n_hid, n_hid, 2), np.int64)
    w_out = np.zeros((n_hid, n_out), np.int64)
    for j in program.projections:
        s = expand(j, sizes[j.source], sizes[j.target])
        if j.delay_base != 1 or (s.delay.size and s.delay.any()):
            raise UnsupportedError(
                f"target xylo: synaptic delay of {j.delay_base} + up to {int(s.delay.max(initial=0))} steps",
                node=j.name, parameter="delay", limit="one step per hop, no synaptic delays",
                fix="remove the delays (Xylo Audio 2 has none)")
        if j.source == inp and j.target in off:
            np.add.at(w_in[:, :, 0], (s.source, s.target + off[j.target]), s.weight)
        elif j.source in off and j.target in off:
            np.add.at(w_rec[:, :, 0], (s.source + off[j.source], s.target + off[j.target]), s.weight)
        elif j.source in off and j.target == out:
            np.add.at(w_out, (s.source + off[j.source], s.target), s.weight)
        else:
            raise UnsupportedError(
                f"target xylo: projection {j.source} -> {j.target}", node=j.name, parameter="topology",
                limit="input -> hidden, hidden -> hidden, hidden -> output",
                fix="route it through a hidden layer (Xylo has no input -> output or output "
                "-> hidden synapses)")
    names = [h for h in hidden for _ in range(sizes[h])] + [out] * n_out
    fan_in = np.concatenate([np.count_nonzero(w_in, axis=(0, 2)) + np.count_nonzero(w_rec, axis=(0, 2)),
                             np.count_nonzero(w_out, axis=0)])
    _check_sizes(n_in, n_hid, n_out, fan_in, names, chip)
    changes: list[Change] = []
    params = [_neurons(program, h, changes) for h in hidden]
    cat = {k: np.concatenate([p[k] for p in params]) if params else np.zeros(0, np.int64) for k in
           ("dash_syn", "dash_mem", "threshold", "bias")}
    o = _neurons(program, out, changes)
    net = XyloNet(w_in, w_rec, w_out, np.stack([cat["dash_syn"]] * 2, axis=1), cat["dash_mem"], cat["threshold"],
                  cat["bias"], o["dash_syn"], o["dash_mem"], o["threshold"], o["bias"])
    record = PassRecord("xylo_map", tuple(changes), {"inputs": n_in, "hidden": n_hid, "outputs": n_out,
                                                     "max_fan_in": int(fan_in.max(initial=0))})
    return XyloMapping(net, inp, tuple(hidden), tuple(sizes[h] for h in hidden), out, record)


def _neurons(program: Program, name: str, changes: list[Change]) -> dict[str, np.ndarray]:
    pop = program.population(name)
    cfg, p = pop.config, pop.params
    if cfg.get("input_shift", 0) or any(k in p and np.any(p[k]) for k in ("input_bias", "v_init", "u_init")):
        raise UnsupportedError(
            "target xylo: an input shift, input bias or initial state", node=name, parameter="input_shift",
            limit="none on Xylo", fix="fold it into the weights and biases")
    if cfg.get("u_bits", 16) > 16 or cfg.get("v_bits", 16) > 16:
        raise UnsupportedError(f"target xylo: {cfg.get('u_bits')}/{cfg.get('v_bits')}-bit state", node=name,
                               parameter="state_bits", limit="16 bits", fix="compile for the xylo target's spec")
    bits = int(cfg.get("decay_bits", 12))
    dash_syn, dash_mem = _dash(p["du"], bits, 1), _dash(p["dv"], bits, 0)
    threshold = p["v_threshold"] + 1
    if threshold.max(initial=0) > STATE_MAX or threshold.min(initial=1) < 1:
        raise UnsupportedError(
            f"target xylo: thresholds span [{threshold.min()}, {threshold.max()}] after the +1 of 'v >= theta'",
            node=name, parameter="v_threshold", limit=f"1..{STATE_MAX}",
            fix="quantize with a smaller scale")
    err = float(np.abs(2.0 ** -dash_syn - p["du"] / (1 << bits)).max(initial=0.0))
    err_v = float(np.abs(2.0 ** -dash_mem - p["dv"] / (1 << bits)).max(initial=0.0))
    if err or err_v:
        changes.append(Change(name, f"decays rounded to bit shifts dash_syn={sorted(set(dash_syn.tolist()))}, "
                                    f"dash_mem={sorted(set(dash_mem.tolist()))}",
                              {"decay_error_syn": err, "decay_error_mem": err_v}))
    if pop.reset != "subtract":
        changes.append(Change(name, f"reset '{pop.reset}' becomes Xylo's reset by subtraction"))
    return {"dash_syn": dash_syn, "dash_mem": dash_mem, "threshold": threshold, "bias": p["bias"]}


def plain_mapping(net: XyloNet) -> XyloMapping:
    """``net`` with populations named ``input``, ``hidden`` and ``output``."""
    return XyloMapping(net, "input", ("hidden",), (net.sizes[1],), "output", PassRecord("xylo_map"))


def is_xylo_program(program: Program) -> bool:
    """Whether every neuron population of ``program`` is a ``xylo`` one (a compiled Xylo program)."""
    return all(p.kernel == "xylo" for p in program.populations if p.kernel != "input")


def read_xylo(program: Program) -> XyloMapping:
    """The Xylo configuration a program of xylo populations holds (the inverse of
    :func:`.program.xylo_program`)."""
    if len(program.inputs) != 1 or len(program.outputs) != 1:
        _roles(program)   # refuses by name
    inp, out = next(iter(program.inputs.values())), next(iter(program.outputs.values()))
    hidden = [p.name for p in program.populations if p.name not in (inp, out)]
    size = {p.name: p.size for p in program.populations}
    off = dict(zip(hidden, np.cumsum([0] + [size[h] for h in hidden])[:-1].tolist()))
    n_in, n_hid, n_out = size[inp], sum(size[h] for h in hidden), size[out]
    mats = {"in": np.zeros((n_in, n_hid, 2), np.int64), "rec": np.zeros((n_hid, n_hid, 2), np.int64),
            "out": np.zeros((n_hid, n_out, 1), np.int64)}
    shifts: dict[str, set[int]] = {"in": set(), "rec": set(), "out": set()}
    for j in program.projections:
        if j.source == out or (j.source == inp and j.target == out):
            raise UnsupportedError(f"target xylo: projection {j.source} -> {j.target}", node=j.name,
                                   parameter="topology", limit="input -> hidden, hidden -> hidden, hidden -> output")
        kind = "in" if j.source == inp else ("out" if j.target == out else "rec")
        s = expand(j, size[j.source], size[j.target])
        row = s.source + off.get(j.source, 0)
        col = s.target + off.get(j.target, 0)
        np.add.at(mats[kind][:, :, j.geometry["synapse"]], (row, col), s.weight)
        shifts[kind].add(j.geometry["weight_shift"])
    for kind, seen in shifts.items():
        if len(seen) > 1:
            raise UnsupportedError(f"target xylo: the {kind} weights use shifts {sorted(seen)}",
                                   parameter="weight_shift", limit="one shift per weight matrix (input, "
                                   "recurrent, output)", fix="requantize the matrix with one shift")

    def params(name: str, key: str) -> np.ndarray:
        return program.population(name).params[key]

    def cat(key: str) -> np.ndarray:
        # A hidden population without a second current has no synapse-2 weights either.
        got = [program.population(h).params.get(key, params(h, "dash_syn")) for h in hidden]
        return np.concatenate(got) if hidden else np.zeros(0, np.int64)

    dash_syn = np.stack([cat("dash_syn"), cat("dash_syn2")], axis=1) if hidden else np.zeros((0, 2), np.int64)
    net = XyloNet(mats["in"], mats["rec"], mats["out"][:, :, 0], dash_syn, cat("dash_mem"), cat("threshold"),
                  cat("bias"), params(out, "dash_syn"), params(out, "dash_mem"), params(out, "threshold"),
                  params(out, "bias"), *(_one(shifts[k]) for k in ("in", "rec", "out")))
    return XyloMapping(net, inp, tuple(hidden), tuple(size[h] for h in hidden), out, PassRecord("xylo_map"))


def _one(seen: set[int]) -> Any:
    return next(iter(seen)) if seen else 0
