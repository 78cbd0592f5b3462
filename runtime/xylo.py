r"""The ``xylo`` kernel's rules: SynSense Xylo Audio 2's integer neuron in the C engine.

A ``xylo`` population (fixed-point programs only) holds per neuron the bit-shift decays
``dash_syn`` (and ``dash_syn2`` for a second synaptic current) and ``dash_mem``, a ``bias`` and a
``threshold``; its one setting is ``max_spikes``.  Registers are 16-bit, ``[-2**15, 2**15 - 1]``,
and every addition saturates there, one at a time.  With ``decay(x, s) = x >> s`` (arithmetic
shift), or ``sign(x)`` where that is 0 and ``x != 0``, one step is:

1. **deliver**: each event queued for the step, in arrival order (population order, then source
   index), adds ``min(n, max_events) * (w << weight_shift)`` into the current its projection
   feeds (``synapse`` 0 or 1), saturating after each event;
2. **decay**: ``i_k <- i_k - decay(i_k, dash_syn_k)`` (this step's input decays too);
3. **integrate**: ``dv = sat(wrap16(-decay(v, dash_mem)) + i_1 + i_2)``, ``dv = sat(dv + bias)``,
   ``v <- sat(v + dv)`` (``wrap16`` turns ``-(-2**15)`` back into ``-2**15``);
4. **fire**: while ``v >= threshold`` and fewer than ``max_spikes`` spikes, one more and
   ``v <- v - threshold``; the event's payload is the number of spikes (``n x weight`` downstream).

This is ``spikec.targets.xylo.reference`` step for step (tests/runtime/test_xylo_kernel.py).
A projection into a xylo population is dense or sparse, without per-synapse delays, and says in
its ``geometry`` which current it feeds, its weight shift and the most events one payload counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ProgramError

__all__ = ["STATE_MIN", "STATE_MAX", "MAX_DASH", "MAX_SPIKES", "MAX_WEIGHT_SHIFT", "MAX_EVENTS", "XYLO_PARAMS",
           "XYLO_OPTIONAL", "check_xylo", "xylo_settings", "checked_xylo_synapses", "engine_weight"]

# 16-bit registers: Xylo Audio 2's state width (xylosim v2, the reference the kernel is held to).
STATE_MIN, STATE_MAX = -(1 << 15), (1 << 15) - 1
MAX_DASH = 15            # a shift past 15 bits leaves a 16-bit register only its sign
MAX_SPIKES = 31          # Xylo's 5-bit spike count per neuron and step (xylosim MAX_NUM_SPIKES)
MAX_WEIGHT_SHIFT = 15    # a wider shift moves any non-zero weight out of a 16-bit register
MAX_EVENTS = STATE_MAX   # keeps count x weight far inside int64 (2**15 x 2**15)
XYLO_PARAMS = ("dash_syn", "dash_mem", "bias", "threshold")
XYLO_OPTIONAL = ("dash_syn2",)
_SYNAPSE_KEYS = ("synapse", "weight_shift", "max_events")


def _err(msg: str, where: str, parameter: str, limit: Any = None, fix: str | None = None) -> ProgramError:
    return ProgramError(msg, node=where, parameter=parameter, limit=limit, fix=fix)


def _span(where: str, key: str, arr: np.ndarray, lo: int, hi: int, fix: str) -> None:
    if arr.size and (arr.min() < lo or arr.max() > hi):
        raise _err(f"spans [{arr.min()}, {arr.max()}]", where, key, limit=f"{lo}..{hi}", fix=fix)


def check_xylo(pop: Any, params: dict[str, np.ndarray]) -> None:
    """The parameters of a ``xylo`` population (see the module docstring), refused by name."""
    where = pop.name
    if not pop.spiking:
        raise _err("a xylo population always spikes", where, "spiking", fix="set spiking=True")
    if pop.reset != "subtract":
        raise _err(f"reset {pop.reset!r}: a xylo neuron resets by subtracting its threshold, once per spike",
                   where, "reset", limit="subtract", fix="set reset='subtract'")
    for key in ("dash_syn", "dash_syn2", "dash_mem"):
        if key in params:
            _span(where, key, params[key], 0, MAX_DASH, "a bit-shift decay is a shift of 0..15 bits")
    _span(where, "bias", params["bias"], STATE_MIN, STATE_MAX, "a bias is one 16-bit addition; quantize it smaller")
    _span(where, "threshold", params["threshold"], 0, STATE_MAX,
          "a negative threshold would wrap the membrane; use 0..32767")


def xylo_settings(pop: Any, params: dict[str, np.ndarray], config: dict[str, Any], shape: tuple[int, ...],
                  dt: float) -> dict[str, Any]:
    """``{"max_spikes": 1..31}`` (default 31, a Xylo hidden neuron; its readout neurons take 1)."""
    unknown = set(config) - {"max_spikes"}
    if unknown:
        raise _err(f"unknown settings {sorted(unknown)}", pop.name, "config", fix="allowed: ['max_spikes']")
    most = config.get("max_spikes", MAX_SPIKES)
    if isinstance(most, bool) or not isinstance(most, (int, np.integer)) or not 1 <= most <= MAX_SPIKES:
        raise _err(f"is {most!r}", pop.name, "max_spikes", limit=f"an integer 1..{MAX_SPIKES}",
                   fix="31 for Xylo's hidden neurons, 1 for its readout neurons")
    return {"max_spikes": int(most)}


def checked_xylo_synapses(j: Any, weight: np.ndarray, delay: np.ndarray | None, dst: Any) -> dict[str, int]:
    """The checked ``geometry`` of projection ``j`` into xylo population ``dst``: ``synapse``
    (0, or 1 where ``dst`` has ``dash_syn2``), ``weight_shift`` (0..15, default 0) and
    ``max_events`` (1..32767); ``weight << weight_shift`` must fit a 16-bit register."""
    where = j.name
    if j.kind not in ("dense", "sparse"):
        raise _err(f"kind {j.kind!r} cannot feed xylo population {dst.name!r}", where, "kind", limit="dense, sparse",
                   fix="expand it to a dense or sparse projection")
    if delay is not None and delay.size and delay.any():
        raise _err(f"per-synapse delays into xylo population {dst.name!r}", where, "delay",
                   limit="one delay per projection (delay_base)", fix="split the projection by delay")
    given = dict(j.geometry)
    unknown = set(given) - set(_SYNAPSE_KEYS)
    if unknown:
        raise _err(f"unknown geometry keys {sorted(unknown)}", where, "geometry", fix=f"allowed: {list(_SYNAPSE_KEYS)}")
    if "synapse" not in given or "max_events" not in given:
        raise _err(f"a projection into xylo population {dst.name!r} needs 'synapse' and 'max_events'", where,
                   "geometry", fix="give geometry={'synapse': 0, 'max_events': 31} (15 from Xylo's input channels)")
    geo = {}
    n_syn = 2 if "dash_syn2" in dst.params else 1
    for key, lo, hi in (("synapse", 0, n_syn - 1), ("weight_shift", 0, MAX_WEIGHT_SHIFT),
                        ("max_events", 1, MAX_EVENTS)):
        value = given.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
            fix = (f"population {dst.name!r} has {n_syn} synaptic current(s); give it dash_syn2 for a second"
                   if key == "synapse" else None)
            raise _err(f"is {value!r}", where, key, limit=f"an integer {lo}..{hi}", fix=fix)
        geo[key] = int(value)
    # Bounded before shifting, so the shift cannot overflow int64 and wrap back into range.
    shifted = np.clip(weight, STATE_MIN - 1, STATE_MAX + 1) * (1 << geo["weight_shift"])
    if shifted.size and (shifted.min() < STATE_MIN or shifted.max() > STATE_MAX):
        raise _err(f"weights << {geo['weight_shift']} span [{shifted.min()}, {shifted.max()}]", where, "weight",
                   limit=f"{STATE_MIN}..{STATE_MAX} (a 16-bit register)", fix="quantize the weights or lower the shift")
    return geo


def engine_weight(j: Any, target_kernel: str) -> np.ndarray:
    """The weights the engine multiplies by: shifted by ``weight_shift`` into a xylo population."""
    if target_kernel != "xylo":
        return j.weight
    return j.weight * (1 << int(j.geometry.get("weight_shift", 0)))
