"""Lowering a rate-coded program to an SFQ netlist: cells, wiring, delays, junction counts.

Every non-zero synapse becomes one synapse cell of level ``|w|`` (pulses per input pulse) on
the neuron's excitatory (w > 0) or inhibitory (w < 0) input.  A unit that drives N synapses
fans out through a balanced splitter tree (N - 1 splitters, ``ceil(log2 N)`` levels); the K
synapses into one input of a neuron fan in through a balanced merger tree (K - 1 mergers,
``ceil(log2 K)`` levels).  Every path is then padded with JTL stages to the deepest one, so
all pulses of one clock period leave their synapses at the same offset: the critical path is
``neuron + splitters + synapse + (slots - 1) x spacing + mergers`` and the clock period must
outlast it (plus the readout's setup time).  One period is one time step of the program.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ...errors import ResourceLimitError, UnsupportedError
from ...runtime.program import Program
from ...runtime.sfq import CELL_TYPES, PulseNetlist
from ...runtime.synapses import expand
from .cells import PYLSE, SFQ_PHYSICS, Cell, CellLibrary
from .spec import SfqOptions

__all__ = ["SfqNetlist", "lower_netlist", "tree_shape"]

FORMAT = "spikec-sfq-netlist/1"
_FS = 1e15
JTL, SPLIT, MERGE, SYN, NEURON = range(len(CELL_TYPES))


def _fs(seconds: float) -> int:
    return int(round(seconds * _FS))


def tree_shape(n: int) -> tuple[list[tuple[int, int]], np.ndarray]:
    """A balanced binary tree over ``n`` leaves: its ``n - 1`` internal nodes as (left, right)
    children (``>= 0``: internal node, ``< 0``: leaf ``-1 - k``), node 0 the root, and each
    leaf's depth (``ceil(log2 n)`` at most)."""
    nodes: list[tuple[int, int]] = []
    depth = np.zeros(n, np.int64)

    def build(lo: int, hi: int, d: int) -> int:
        if hi - lo == 1:
            depth[lo] = d
            return -1 - lo
        k = len(nodes)
        nodes.append((0, 0))
        mid = (lo + hi + 1) // 2
        nodes[k] = (build(lo, mid, d + 1), build(mid, hi, d + 1))
        return k

    if n > 1:
        build(0, n, 0)
    return nodes, depth


@dataclass(frozen=True)
class SfqNetlist:
    """A program lowered to cells: the kernel's flat netlist plus what a report needs."""

    pulses: PulseNetlist
    neurons: Mapping[str, tuple[int, int]]      # population -> (first neuron index, size)
    channels: Mapping[str, tuple[int, int]]     # input population -> (first channel, size)
    jj: Mapping[str, int]                       # junctions by cell kind
    cells: Mapping[str, int]                    # cells by kind (JTL: padding stages)
    critical_path_s: float
    period_s: float
    synapse_bias_a: np.ndarray                  # bias current of every synapse cell
    path_delay_s: np.ndarray                    # per synapse: its driver's pulse to the neuron's input
    fan_out: np.ndarray                         # synapses each unit (channels, then neurons) drives

    @property
    def jj_total(self) -> int:
        return int(sum(self.jj.values()))

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures (what the program's metadata and ``spikec compile`` show)."""
        return {"jj_total": self.jj_total, "jj": dict(self.jj), "cells": dict(self.cells),
                "critical_path_ps": self.critical_path_s * 1e12, "period_ps": self.period_s * 1e12,
                "clock_ghz": 1e-9 / self.period_s}

    def to_json(self) -> str:
        """The whole netlist as JSON (format ``spikec-sfq-netlist/1``)."""
        n = self.pulses
        syn_k = np.flatnonzero(n.type == SYN)
        bias = dict(zip(syn_k.tolist(), (self.synapse_bias_a * 1e6).tolist()))
        path = dict(zip(syn_k.tolist(), (self.path_delay_s * 1e12).tolist()))
        driver = {int(c): k for k, c in enumerate(n.input_cell) if c >= 0}
        cells = []
        for c in range(n.n_cells):
            cell: dict[str, Any] = {"id": c, "type": CELL_TYPES[int(n.type[c])], "delay_ps": n.delay_fs[c] / 1000,
                                    "pre_delay_ps": n.pre_delay_fs[c] / 1000, "jtl_stages": int(n.pre_jtl[c]),
                                    "out": [int(o) for o in (n.out0[c], n.out1[c]) if o >= 0]}
            if n.port[c]:
                cell["port"] = "inhibitory"
            if c in driver:
                cell["input_channel"] = driver[c]   # the off-chip driver of an input line (no junctions)
            if c in bias:
                cell["level"], cell["bias_ua"] = int(n.param[c]), round(bias[c], 4)
                cell["path_delay_ps"] = round(path[c], 4)
            if n.type[c] == NEURON:
                i = int(n.param[c])
                cell.update(neuron=i, threshold=int(n.threshold[i]), leak_dv=int(n.dv[i]), bias_fluxons=int(n.bias[i]))
            cells.append(cell)
        return json.dumps({"format": FORMAT, "summary": self.summary(), "neurons": dict(self.neurons),
                           "inputs": dict(self.channels), "cells": cells}, indent=1)

    def listing(self, limit: int = 20) -> str:
        """A readable cell listing: totals, then the first ``limit`` cells."""
        s = self.summary()
        lines = [f"SFQ netlist: {s['jj_total']} JJ, critical path {s['critical_path_ps']:.1f} ps, clock "
                 f"{s['clock_ghz']:.2f} GHz"]
        lines += [f"  {kind:<9} {self.cells[kind]:>8} cells {self.jj[kind]:>9} JJ" for kind in self.jj]
        n = self.pulses
        drivers = set(n.input_cell.tolist())
        for c in range(min(limit, n.n_cells)):
            outs = ",".join(str(int(o)) for o in (n.out0[c], n.out1[c]) if o >= 0) or "-"
            kind = "input" if c in drivers else CELL_TYPES[int(n.type[c])]
            lines.append(f"  #{c:<6} {kind:<9} delay {n.delay_fs[c] / 1000:6.1f} ps  pad "
                         f"{n.pre_delay_fs[c] / 1000:6.1f} ps  -> {outs}")
        if n.n_cells > limit:
            lines.append(f"  ... {n.n_cells - limit} more cells (to_json() has them all)")
        return "\n".join(lines)


def _units(program: Program) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    neurons: dict[str, tuple[int, int]] = {}
    channels: dict[str, tuple[int, int]] = {}
    for p in program.populations:
        if p.kernel == "input":
            channels[p.name] = (sum(s for _, s in channels.values()), p.size)
            continue
        if p.kernel != "cuba_fixed" or not p.spiking:
            raise UnsupportedError(f"population '{p.name}' is a {'non-spiking ' if not p.spiking else ''}{p.kernel} "
                                   "population; an SFQ neuron is a spiking integer storage loop", node=p.name,
                                   parameter="kernel", fix="use spiking LIF/IF neurons and fixed arithmetic")
        full = 1 << int(p.config["decay_bits"])
        if np.any(p.params["du"] != full) or p.reset not in ("value", "subtract") or int(p.config["input_shift"]):
            raise UnsupportedError(f"population '{p.name}' needs a synaptic current, an input shift or reset "
                                   f"'{p.reset}'; an SFQ storage loop has none", node=p.name, parameter="du",
                                   fix="use LIF/IF neurons (no synaptic time constant), reset to a value or by "
                                       "subtraction")
        neurons[p.name] = (sum(s for _, s in neurons.values()), p.size)
    return neurons, channels


def _synapses(program: Program, neurons: Mapping[str, tuple[int, int]], channels: Mapping[str, tuple[int, int]],
              slots: int, n_channels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source unit, target neuron, signed level) of every non-zero synapse; units: channels
    first, then neurons."""
    src, dst, lvl = [], [], []
    for j in program.projections:
        if j.max_delay() != 1 or j.min_delay() != 1:
            raise UnsupportedError(f"projection '{j.name}' has delays {j.min_delay()}..{j.max_delay()} steps; an SFQ "
                                   "hop takes one clock period", node=j.name, parameter="delay", limit="1 step",
                                   fix="remove synaptic delays (or relay them through neurons)")
        s = expand(j, program.population(j.source).size, program.population(j.target).size)
        keep = s.weight != 0
        w = s.weight[keep].astype(np.int64)
        if w.size and np.abs(w).max() > slots:
            raise ResourceLimitError(f"projection '{j.name}' has a weight of {int(np.abs(w).max())} pulses; the "
                                     f"synapses have {slots} levels above zero", node=j.name, parameter="weight",
                                     limit=f"|w| <= {slots}", fix="quantize to the bias levels (compile for sfq)")
        base = channels[j.source][0] if j.source in channels else n_channels + neurons[j.source][0]
        src.append(s.source[keep] + base)
        dst.append(s.target[keep] + neurons[j.target][0])
        lvl.append(w)
    cat = (lambda parts: np.concatenate(parts) if parts else np.zeros(0, np.int64))  # noqa: E731
    return cat(src), cat(dst), cat(lvl)


class _Cells:
    """Growing cell arrays (the builder's only mutable state)."""

    def __init__(self) -> None:
        self.cols: dict[str, list[int]] = {k: [] for k in ("type", "delay", "jj", "out0", "out1", "port", "param")}

    def add(self, kind: int, delay: int, jj: int, param: int = 0) -> int:
        for k, v in (("type", kind), ("delay", delay), ("jj", jj), ("out0", -1), ("out1", -1), ("port", 0),
                     ("param", param)):
            self.cols[k].append(v)
        return len(self.cols["type"]) - 1

    def tree(self, n: int, kind: int, delay: int, jj: int) -> tuple[list[int], list[tuple[int, int]], np.ndarray]:
        shape, depth = tree_shape(n)
        ids = [self.add(kind, delay, jj) for _ in shape]
        return ids, shape, depth

    def fan_out(self, drivers: list[int], syn: list[int], src: np.ndarray, cell: Cell) -> tuple[np.ndarray, int]:
        """A splitter tree from each driver to its synapses: each synapse's depth, and the splitters."""
        out0, out1 = self.cols["out0"], self.cols["out1"]
        depth = np.zeros(len(syn), np.int64)
        count = 0
        order = np.argsort(src, kind="stable")
        for lo, hi in _runs(src[order]):
            members = order[lo:hi]
            root = drivers[int(src[members[0]])]
            if hi - lo == 1:
                out0[root] = syn[members[0]]
                continue
            ids, shape, depth[members] = self.tree(hi - lo, SPLIT, _fs(cell.delay.value), cell.switches.value)
            count += len(ids)
            out0[root] = ids[0]
            for k, (left, right) in enumerate(shape):
                out0[ids[k]] = ids[left] if left >= 0 else syn[members[-1 - left]]
                out1[ids[k]] = ids[right] if right >= 0 else syn[members[-1 - right]]
        return depth, count

    def fan_in(self, neuron_cell: list[int], syn: list[int], dst: np.ndarray, lvl: np.ndarray,
               cell: Cell) -> tuple[np.ndarray, np.ndarray, int]:
        """A merger tree from the synapses into each input (excitatory, inhibitory) of a neuron:
        each synapse's depth and its position among the tree's leaves, and the mergers."""
        out0, port = self.cols["out0"], self.cols["port"]
        depth = np.zeros(len(syn), np.int64)
        leaf = np.zeros(len(syn), np.int64)
        count = 0
        key = dst * 2 + (lvl < 0)
        order = np.argsort(key, kind="stable")
        for lo, hi in _runs(key[order]):
            members = order[lo:hi]
            target, sign = neuron_cell[int(dst[members[0]])], int(lvl[members[0]] < 0)
            if hi - lo == 1:
                out0[syn[members[0]]], port[syn[members[0]]] = target, sign
                continue
            ids, shape, depth[members] = self.tree(hi - lo, MERGE, _fs(cell.delay.value), cell.switches.value)
            count += len(ids)
            out0[ids[0]], port[ids[0]] = target, sign
            for k, children in enumerate(shape):
                for child in children:
                    out0[ids[child] if child >= 0 else syn[members[-1 - child]]] = ids[k]
            leaf[members] = np.arange(hi - lo)
        return depth, leaf, count


def _period(critical: int, options: SfqOptions, lib: CellLibrary) -> int:
    """The clock period (fs): the critical path plus the readout's setup, or the option's clock."""
    needed = critical + _fs(lib.dro_setup.value)
    if options.clock_ghz is None:
        return needed
    period = int(round(1e6 / options.clock_ghz))
    if period < needed:
        raise ResourceLimitError(f"a {options.clock_ghz:g} GHz clock ({period / 1000:g} ps) is shorter than the "
                                 f"critical path plus setup ({needed / 1000:g} ps)", parameter="clock_ghz",
                                 limit=f"<= {1e6 / needed:.3f} GHz", fix="lower --clock-ghz or leave it unset")
    return period


def lower_netlist(program: Program, options: SfqOptions, library: CellLibrary = PYLSE) -> SfqNetlist:
    """The netlist of ``program`` (a program compiled for sfq) under ``options``."""
    neurons, channels = _units(program)
    n_ch = sum(s for _, s in channels.values())
    n_neu = sum(s for _, s in neurons.values())
    slots = options.levels_max
    src, dst, lvl = _synapses(program, neurons, channels, slots, n_ch)
    lib = library
    d_s, d_m, d_syn, d_jtl, d_neu = (_fs(c.delay.value) for c in (lib.splitter, lib.merger, lib.synapse, lib.jtl,
                                                                   lib.neuron))
    window = _fs(lib.merger_window.value if options.merger_window_ps is None else options.merger_window_ps * 1e-12)

    cells = _Cells()
    drivers = [cells.add(JTL, 0, 0) for _ in range(n_ch)]     # off-chip drivers: no junctions counted
    neuron_cell = [cells.add(NEURON, d_neu, lib.neuron.switches.value, i) for i in range(n_neu)]
    syn = [cells.add(SYN, d_syn, lib.synapse.switches.value, int(abs(v))) for v in lvl]
    depth_s, n_split = cells.fan_out(drivers + neuron_cell, syn, src, lib.splitter)
    depth_m, leaf, n_merge = cells.fan_in(neuron_cell, syn, dst, lvl, lib.merger)

    col = cells.cols
    n_cells = len(col["type"])
    pre_delay = np.zeros(n_cells, np.int64)
    pre_jtl = np.zeros(n_cells, np.int64)
    top_s = int(depth_s.max(initial=0))
    top_m = int(depth_m.max(initial=0))
    # Staggering: the k-th leaf of a merger tree sends in slot k of every round of `fan_in` slots
    # one window apart, so no two pulses meet inside a merger's window (time-division fan-in).
    fan_in = int(leaf.max(initial=0)) + 1
    offset = leaf * window if options.stagger else np.zeros(len(syn), np.int64)
    if options.pulse_spacing_ps is not None:
        spacing = _fs(options.pulse_spacing_ps * 1e-12)
    else:
        spacing = fan_in * window if options.stagger else max(window, d_jtl)
    if syn:
        # Path balancing: every synapse's pulses reach its neuron at the same offset in the period
        # (plus its stagger slot); the pad is a JTL delay line in front of the synapse.
        pad = (top_s - depth_s) * d_s + (top_m - depth_m) * d_m + offset
        pre_delay[syn] = pad
        pre_jtl[syn] = -(-pad // max(d_jtl, 1))
    critical = d_neu + top_s * d_s + d_syn + int(offset.max(initial=0)) + (slots - 1) * spacing + top_m * d_m
    period = _period(critical, options, lib)

    pulses = PulseNetlist(
        type=np.array(col["type"]), delay_fs=np.array(col["delay"]), pre_delay_fs=pre_delay, jj=np.array(col["jj"]),
        pre_jtl=pre_jtl, out0=np.array(col["out0"]), out1=np.array(col["out1"]), port=np.array(col["port"]),
        param=np.array(col["param"]), neuron_cell=np.array(neuron_cell, np.int64),
        input_cell=np.array([c if col["out0"][c] >= 0 else -1 for c in drivers], np.int64),
        slots=slots, window_fs=window, spacing_fs=spacing, jtl_jj=lib.jtl.jj.value, **_neuron_params(program, neurons))
    n_syn = len(syn)
    counts = {"neuron": n_neu, "synapse": n_syn, "splitter": n_split, "merger": n_merge, "jtl": int(pre_jtl.sum())}
    jj = {"neuron": n_neu * lib.neuron.jj.value, "synapse": n_syn * slots * lib.synapse_jj_per_slot.value,
          "splitter": n_split * lib.splitter.jj.value, "merger": n_merge * lib.merger.jj.value,
          "jtl": counts["jtl"] * lib.jtl.jj.value}
    # Every path is padded to the same length; the stagger slot and the driver's own delay remain.
    path = np.where(src < n_ch, 0, d_neu) + top_s * d_s + offset + d_syn + top_m * d_m
    return SfqNetlist(pulses, neurons, channels, jj, counts, critical_path_s=critical / _FS, period_s=period / _FS,
                      synapse_bias_a=synapse_bias(np.abs(lvl), slots, options, lib), path_delay_s=path / _FS,
                      fan_out=np.bincount(src, minlength=n_ch + n_neu))


def synapse_bias(levels: np.ndarray, slots: int, options: SfqOptions, library: CellLibrary = PYLSE) -> np.ndarray:
    """Bias current (A) of synapses at ``levels``: linear from the never-passing to the
    always-passing bias (cells.SfqPhysics.bias_low/high) of the synapse junction's Ic."""
    lo, hi = SFQ_PHYSICS.bias_low.value, SFQ_PHYSICS.bias_high.value
    ic = library.synapse.ic.value if options.ic_ua is None else options.ic_ua * 1e-6
    return (lo + (hi - lo) * np.asarray(levels, float) / max(slots, 1)) * ic


def _neuron_params(program: Program, neurons: Mapping[str, tuple[int, int]]) -> dict[str, Any]:
    pops = [program.population(name) for name in neurons]
    cat = (lambda key: np.concatenate([p.params[key] for p in pops]) if pops else np.zeros(0, np.int64))  # noqa: E731
    configs = {(int(p.config["decay_bits"]), int(p.config["v_bits"])) for p in pops}
    if len(configs) > 1:
        raise UnsupportedError(f"populations differ in decay or state width {sorted(configs)}", parameter="config",
                               fix="compile every population for sfq (one spec)")
    decay_bits, v_bits = next(iter(configs)) if configs else (12, 16)
    return {"v_bits": v_bits, "threshold": cat("v_threshold"), "v_reset": cat("v_reset"), "dv": cat("dv"),
            "bias": cat("bias"), "reset": tuple(p.reset for p in pops for _ in range(p.size)), "decay_bits": decay_bits}


def _runs(sorted_keys: np.ndarray) -> list[tuple[int, int]]:
    """[lo, hi) ranges of equal keys in a sorted array."""
    if not sorted_keys.size:
        return []
    cuts = np.flatnonzero(np.diff(sorted_keys)) + 1
    edges = np.concatenate([[0], cuts, [sorted_keys.size]])
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]

