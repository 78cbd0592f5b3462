"""Loihi 2 lowering of a runtime Program: the chip's timing, and the register encodings of the
Lava processes that compute the same thing.

**Timing.**  On Loihi a spike emitted at step *t* reaches its targets' dendrites at step *t + 1*
at the earliest (Lava's ``Dense`` sends the activation it accumulated in the previous step), and
a ``DelayDense`` delay *d* (0..63) makes it *t + 1 + d*.  The IR instead delivers feed-forward
projections within the step.  :func:`loihi_timing` (:func:`spikec.compiler.timing.hop_latency`)
gives every projection ``delay_base = 1`` (back edges already have it), so the C engine runs the
program with the chip's timing; the IR delays stay the per-synapse delays ``d``.

**Encodings** (:func:`encode`), what Lava's bit-accurate models compute, checked exactly:

- population (``cuba_fixed``, spiking, reset to 0) → one ``LIF``: ``du = du_ir - 1`` (Lava adds
  ``ds_offset = 1``), ``dv = dv_ir``, ``vth = v_threshold >> 6``, ``bias_mant << bias_exp = bias``;
  ``du``, ``dv`` and ``vth`` are one value per process in Lava, so they must be uniform;
- projection → ``Dense``/``Sparse`` (``Delay*`` with delays): mixed-sign weights are stored
  doubled (Lava keeps mixed weights as 7 bits + sign, scaled by 2) with ``weight_exp`` one lower,
  so ``(sum w_lava) << weight_exp == (sum w) << (input_shift - 6)`` exactly;
- a projection bias (``input_bias``) joins the neuron bias (times ``2**input_shift``) when the
  current decays fully each step (``du = 4096``, u = input): exact for v and spikes; into a
  decaying current, :mod:`.compile` has already turned it into synapses from an always-on neuron;
- weights beyond 8 bits that are an 8-bit weight times ``2**e`` (the always-on neuron's bias
  digits) raise that connection's ``weight_exp`` by ``e``.

Anything else is refused with the node, the parameter, the limit and a fix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...compiler.timing import hop_latency as loihi_timing
from ...errors import UnsupportedError
from ...runtime.program import Program
from ...runtime.synapses import expand
from .spec import LOIHI2_SPEC

__all__ = ["LifProcess", "Connection", "LavaNetwork", "loihi_timing", "encode", "ACT_SHIFT",
           "VTH_SHIFT"]

# Lava's register formats, read from the spec (each figure's source is there).
ACT_SHIFT = LOIHI2_SPEC.value("input_shift")                        # Lava LIF act_shift
VTH_SHIFT = LOIHI2_SPEC.value("threshold_shift")                    # Lava LIF vth_shift
DECAY_BITS = LOIHI2_SPEC.value("decay_bits")
STATE_BITS = LOIHI2_SPEC.value("state_bits")
VTH_MAX = (1 << LOIHI2_SPEC.value("threshold_bits")) - 1            # unsigned mantissa
BIAS_MANT_MAX = (1 << (LOIHI2_SPEC.value("bias_bits") - 1)) - 1     # signed mantissa
BIAS_EXP_MAX = (1 << LOIHI2_SPEC.value("bias_exponent_bits")) - 1   # unsigned exponent
MAX_DELAY = LOIHI2_SPEC.value("max_delay")                          # DelayDense / DelaySparse delays
_FIX = "compile the model for Loihi 2 (spikec.compile(model, 'loihi2'), or spikec compile --target loihi2)"


@dataclass(frozen=True)
class LifProcess:
    """One Lava ``LIF`` process (bit-accurate model) standing for one population."""

    name: str
    size: int
    du: int
    dv: int
    vth: int
    bias_mant: np.ndarray
    bias_exp: np.ndarray
    u_init: np.ndarray
    v_init: np.ndarray


@dataclass(frozen=True)
class Connection:
    """One Lava connection process: synapse lists in Lava's weight units."""

    name: str
    source: str
    target: str
    n_src: int
    n_dst: int
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    delay: np.ndarray | None   # per synapse, 0..63; None: no delays
    weight_exp: int
    sign_mode: str             # "mixed", "excitatory" or "inhibitory" (Lava's SignMode)
    graded: bool               # the source sends integer payloads (num_message_bits > 0)
    dense: bool                # stored dense in the program (exported as Dense when unbatched)


@dataclass(frozen=True)
class LavaNetwork:
    """Everything needed to build the Lava process network of a program."""

    inputs: tuple[tuple[str, str, int], ...]   # (population, input port, size)
    lifs: tuple[LifProcess, ...]
    connections: tuple[Connection, ...]


def _uniform(name: str, parameter: str, arr: np.ndarray, why: str) -> int:
    if arr.size and np.any(arr != arr[0]):
        raise UnsupportedError(
            f"varies across the population ({arr.min()}..{arr.max()}); {why}", node=name, parameter=parameter,
            limit="one value per Lava LIF process",
            fix="quantize per layer (no per_channel), give all neurons of a population the same time constants, "
                "or split the population",
        )
    return int(arr[0]) if arr.size else 0


def _bias(name: str, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each bias as mantissa << exponent with the smallest exponent, exactly."""
    mant = bias.astype(np.int64).copy()
    exp = np.zeros(bias.size, np.int64)
    for e in range(1, BIAS_EXP_MAX + 1):
        big = np.abs(mant) > BIAS_MANT_MAX
        even = mant % 2 == 0
        step = big & even
        mant = np.where(step, mant // 2, mant)
        exp = np.where(step, e, exp)
        if not np.any(big):
            break
    bad = np.flatnonzero(np.abs(mant) > BIAS_MANT_MAX)
    if bad.size:
        i = int(bad[0])
        raise UnsupportedError(
            f"bias {int(bias[i])} of neuron {i} is not a 13-bit mantissa << a 3-bit exponent", node=name,
            parameter="bias", limit=f"|mantissa| <= {BIAS_MANT_MAX}, exponent 0..{BIAS_EXP_MAX}", fix=_FIX,
        )
    return mant, exp


def _lif(program: Program, k: int) -> LifProcess:
    pop = program.populations[k]
    name = pop.name
    if pop.kernel == "cuba_float":
        raise UnsupportedError("is a float population; Loihi computes in fixed point", node=name, fix=_FIX)
    if pop.kernel == "pass":
        raise UnsupportedError(
            "is a relay (a projection feeding a projection, or a delay chain); Loihi has no zero-latency relay",
            node=name, fix="put a neuron population between the two projections, merge them, "
                           "or keep synaptic delays within 63 steps")
    if not pop.spiking:
        raise UnsupportedError(
            "is a non-spiking (graded) population; Lava's LIF always fires and resets", node=name,
            fix="end the network with a spiking layer and decode its spike counts")
    cfg = pop.config
    want = {"decay_bits": DECAY_BITS, "u_bits": STATE_BITS, "v_bits": STATE_BITS, "u_overflow": "lava_wrap",
            "v_overflow": "saturate", "rounding": "toward_zero"}
    for key, value in want.items():
        if cfg[key] != value:
            raise UnsupportedError(f"has {key}={cfg[key]!r}", node=name, parameter=key, limit=repr(value), fix=_FIX)
    if cfg["input_shift"] < ACT_SHIFT:
        raise UnsupportedError(f"has input_shift={cfg['input_shift']}", node=name, parameter="input_shift",
                               limit=f">= {ACT_SHIFT} (Lava's act_shift)", fix=_FIX)
    prm = pop.params
    if pop.reset != "value" or np.any(prm["v_reset"] != 0):
        raise UnsupportedError(f"resets by {pop.reset!r} (v_reset {np.unique(prm['v_reset'])[:4]})", node=name,
                               parameter="reset", limit="reset to 0 (Lava's LIF)",
                               fix="train with reset-to-zero neurons")
    du = _uniform(name, "du", prm["du"], "Lava's LIF has one du")
    dv = _uniform(name, "dv", prm["dv"], "Lava's LIF has one dv")
    thr = _uniform(name, "v_threshold", prm["v_threshold"], "Lava's LIF has one vth")
    if not 1 <= du <= 1 << DECAY_BITS:
        raise UnsupportedError(f"du = {du}: the current never decays", node=name, parameter="du",
                               limit="1..4096 (Lava adds ds_offset = 1 to a 12-bit du)",
                               fix="give the population a finite synaptic time constant")
    if not 0 <= dv < 1 << DECAY_BITS:
        raise UnsupportedError(f"dv = {dv}: the membrane decays fully each step", node=name, parameter="dv",
                               limit="0..4095 (12-bit dv)", fix="use a membrane time constant longer than dt")
    if thr < 0 or thr % (1 << VTH_SHIFT) or thr >> VTH_SHIFT > VTH_MAX:
        raise UnsupportedError(f"v_threshold = {thr}", node=name, parameter="v_threshold",
                               limit=f"vth << {VTH_SHIFT} with 0 <= vth <= {VTH_MAX}", fix=_FIX)
    bias = prm["bias"].astype(np.int64)
    if "input_bias" in prm and np.any(prm["input_bias"] != 0):
        if du != 1 << DECAY_BITS:
            raise UnsupportedError(
                "has a projection bias into a current that decays over several steps; Lava's LIF has a bias "
                "on v only", node=name, parameter="input_bias", limit="du = 4096 (no synaptic current)",
                fix="train the projections into current-based neurons without bias")
        bias = bias + (prm["input_bias"].astype(np.int64) << cfg["input_shift"])
    mant, exp = _bias(name, bias)
    zeros = np.zeros(pop.size, np.int64)
    return LifProcess(name, pop.size, du - 1, dv, thr >> VTH_SHIFT, mant, exp,
                      prm.get("u_init", zeros).astype(np.int64), prm.get("v_init", zeros).astype(np.int64))


def _connection(program: Program, j_index: int, graded: bool) -> list[Connection]:
    j = program.projections[j_index]
    src_pop, dst_pop = program.population(j.source), program.population(j.target)
    if j.delay_base != 1:
        raise UnsupportedError(f"has delay_base={j.delay_base}", node=j.name, parameter="delay_base",
                               limit="1 (every hop takes a step on Loihi)", fix="apply loihi_timing() first")
    syn = expand(j, src_pop.size, dst_pop.size)
    keep = syn.weight != 0
    src, dst, w, d = syn.source[keep], syn.target[keep], syn.weight[keep].astype(np.int64), syn.delay[keep]
    if d.size and d.max() > MAX_DELAY:
        raise UnsupportedError(f"has a synaptic delay of {int(d.max())} steps", node=j.name, parameter="delay",
                               limit=f"<= {MAX_DELAY} (6-bit delays)",
                               fix="longer delays need relay neurons, which the Loihi 2 lowering does not build yet")
    shift = program.population(j.target).config["input_shift"] - ACT_SHIFT
    mixed = bool(w.size) and w.min() < 0 < w.max()
    extra = _weight_exponent(j.name, w, 127 if mixed else 255, mixed)
    w, shift = w >> extra, shift + extra
    mode = "mixed" if mixed else ("inhibitory" if w.size and w.max() <= 0 and w.min() < 0 else "excitatory")
    has_delay = bool(d.size) and bool(np.any(d != 0))
    parts: list[Connection] = []
    # A (source, target) pair held twice (a sparse projection with two delays, say) cannot sit in one
    # matrix: the k-th copy of each pair goes to the k-th process.
    key = dst * src_pop.size + src
    order = np.argsort(key, kind="stable")
    rank = np.zeros(key.size, np.int64)
    if key.size:
        ks = key[order]
        start = np.r_[0, np.flatnonzero(np.diff(ks)) + 1]
        run_id = np.repeat(np.arange(start.size), np.diff(np.r_[start, ks.size]))
        rank[order] = np.arange(ks.size) - start[run_id]
    for r in range(int(rank.max()) + 1 if rank.size else 1):
        sel = rank == r
        parts.append(Connection(
            name=j.name if r == 0 else f"{j.name}#{r}", source=j.source, target=j.target,
            n_src=src_pop.size, n_dst=dst_pop.size, src=src[sel], dst=dst[sel],
            weight=w[sel] * (2 if mixed else 1), delay=d[sel] if has_delay else None,
            weight_exp=shift - int(mixed), sign_mode=mode, graded=graded, dense=j.kind == "dense" and r == 0,
        ))
    return parts


def _weight_exponent(name: str, w: np.ndarray, limit: int, mixed: bool) -> int:
    """The smallest ``e`` with every weight a multiple of ``2**e`` whose quotient fits Lava's 8-bit
    weight (0 for weights that fit): the connection's weight exponent grows by ``e``, exactly."""
    big = int(np.abs(w).max()) if w.size else 0
    for e in range(0, 63):
        if big >> e <= limit and not np.any(w & ((1 << e) - 1)):
            return e
        if big >> e <= limit:
            break
    raise UnsupportedError(
        f"has a weight of magnitude {big}, which is no 8-bit weight times a power of two", node=name,
        parameter="weight", limit=f"{'-128..127 (mixed signs)' if mixed else '0..255 in magnitude (one sign)'}",
        fix="quantize with weight_bits <= 8")


def encode(program: Program) -> LavaNetwork:
    """The Lava processes computing ``program`` (timed by :func:`loihi_timing`), or an
    :class:`UnsupportedError` naming what Lava's Loihi models cannot express."""
    if program.arithmetic != "fixed":
        raise UnsupportedError("is a float program; Loihi computes in fixed point", node="program", fix=_FIX)
    port_of = {pop: port for port, pop in program.inputs.items()}
    inputs, lifs = [], []
    for k, pop in enumerate(program.populations):
        if pop.kernel == "input":
            inputs.append((pop.name, port_of[pop.name], pop.size))
        else:
            lifs.append(_lif(program, k))
    graded_src = {name for name, _, _ in inputs}  # inputs may carry integer payloads; spikes are 0/1
    connections: list[Connection] = []
    for i, j in enumerate(program.projections):
        connections += _connection(program, i, j.source in graded_src)
    return LavaNetwork(tuple(inputs), tuple(lifs), tuple(connections))
