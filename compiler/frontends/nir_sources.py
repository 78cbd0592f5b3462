"""What a NIR file meant to the framework that wrote it.

NIR records neither a reset mode, nor a discretization, nor the time step, so a file read
literally (forward Euler, one spike when ``v > v_threshold``, reset to ``v_reset``) computes
something else than the framework's own forward pass for most exporters.  Each
:class:`Convention` here is one framework's reading, as a transform of the literally imported
graph plus the time step its exporter assumes; each is checked against that framework's own
forward pass in ``tests/compiler/test_nir_other_frameworks.py`` (snnTorch 1.0, Rockpool 3.1,
Spyx 1.0, Norse 1.1).  Frameworks that do not run here next to nir 1.0.8 (lava-dl needs Python
3.10 with its own torch) have no convention yet: one that was never run against the framework
would be a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ... import ir
from ...errors import UnsupportedError

__all__ = ["Convention", "CONVENTIONS", "convention", "apply_convention"]


@dataclass(frozen=True)
class Convention:
    """One framework's reading of a NIR file: its exporter's time step, and the transform from
    the literal NIR graph to what the framework computes."""

    name: str
    dt: float
    summary: str
    transform: Callable[[ir.Graph], ir.Graph]


def _literal(graph: ir.Graph) -> ir.Graph:
    return graph


def _snntorch(graph: ir.Graph) -> ir.Graph:
    # Leaky/Synaptic's default reset_mechanism="subtract" removes the threshold one step after the
    # spike, after the decay: spikec's subtract_next.  (reset_mechanism="zero" is NIR's own reset:
    # read such files with source="nir", dt=1e-4.)
    nodes = {k: v.replace(reset="subtract_next") if isinstance(v, (ir.LIF, ir.CubaLIF, ir.IF)) else v
             for k, v in graph.nodes.items()}
    return graph.replace(nodes=nodes)


def _rockpool(graph: ir.Graph) -> ir.Graph:
    # Exponential decays exp(-dt/tau) written as Euler time constants tau' = dt/(1-exp(-dt/tau));
    # the synaptic input is added before the synaptic decay (gain exp(-dt/tau_syn)); membrane
    # input gain 1; subtractive reset.
    dt = graph.dt
    nodes = {}
    for k, v in graph.nodes.items():
        if isinstance(v, ir.CubaLIF):
            a_syn, a_mem = np.exp(-dt / v.tau_syn), np.exp(-dt / v.tau_mem)
            tau_syn, tau_mem = dt / (1 - a_syn), dt / (1 - a_mem)
            v = v.replace(tau_syn=tau_syn, w_in=a_syn * tau_syn / dt, tau_mem=tau_mem, r=tau_mem / dt,
                          reset="subtract")
        elif isinstance(v, ir.LIF):
            tau = dt / (1 - np.exp(-dt / v.tau))
            v = v.replace(tau=tau, r=tau / dt, reset="subtract")
        nodes[k] = v
    return graph.replace(nodes=nodes)


def _norse(graph: ir.Graph) -> ir.Graph:
    # What norse.torch.from_nir (Norse 1.1.0, utils/import_nir.py) builds: LIFBoxCell with r = 1
    # (the file's r is ignored with a warning) and Norse's default v_reset = 0 (the file's is not
    # read), its membrane starting at v_leak; a CubaLIF as a leaky-integrator synapse (also
    # leaking to v_leak, from v_leak), its output times r, into a LIFBoxCell; IAFCell adds its
    # input as it is (v += x: r and dt unused) and resets to 0.  A LIF starting at v_leak is the
    # LIF without leak potential in v' = v - v_leak (threshold and reset shifted by -v_leak), which
    # starts at 0 as spikec's neurons do; a CubaLIF's synapse would need a start of its own.
    nodes = dict(graph.nodes)
    for k, v in graph.nodes.items():
        if isinstance(v, ir.LIF):
            nodes[k] = v.replace(r=np.ones_like(v.r), v_leak=np.zeros_like(v.v_leak),
                                 v_threshold=v.v_threshold - v.v_leak, v_reset=-v.v_leak)
        elif isinstance(v, ir.IF):
            nodes[k] = v.replace(r=np.full_like(v.r, 1.0 / graph.dt), v_reset=np.zeros_like(v.v_reset))
        elif isinstance(v, ir.CubaLIF):
            if np.any(v.v_leak):
                raise UnsupportedError(
                    "Norse starts this CubaLIF's synaptic current and membrane at v_leak and leaks its current "
                    "towards v_leak too (from_nir gives the synapse LIBoxParameters(v_leak=...)); spikec's neurons "
                    "start at 0", node=k, parameter="v_leak", limit="v_leak = 0 for a Norse CubaLIF",
                    fix="export it with v_leak = 0 (a constant input belongs in the Affine's bias), or read the file "
                        "with source='nir' (NIR's own equations)")
            nodes[k] = v.replace(v_reset=np.zeros_like(v.v_reset))
    return graph.replace(nodes=nodes)


def _spyx(graph: ir.Graph) -> ir.Graph:
    # Input gain 1 (the file's r = beta does not describe Spyx), the threshold subtracted at the
    # next step, and each LIF's spikes one step late: Spyx fires from the membrane before it
    # integrates the step's input.
    nodes, edges = dict(graph.nodes), list(graph.edges)
    for k, v in graph.nodes.items():
        if isinstance(v, ir.LIF):
            nodes[k] = v.replace(r=v.tau / graph.dt, reset="subtract_next")
            late = f"{k}.emit"
            if late in nodes:
                raise UnsupportedError(f"a node named '{late}' exists already", node=late,
                                       fix="rename it: Spyx's one-step emission latency needs that name")
            nodes[late] = ir.Delay(np.ones(v.shape, np.int64))
            edges = [(late, b) if a == k else (a, b) for a, b in edges] + [(k, late)]
    return ir.Graph(nodes, edges, dt=graph.dt, metadata=graph.metadata)


CONVENTIONS: dict[str, Convention] = {c.name: c for c in (
    Convention("nir", 1e-3, "NIR as written: forward Euler, spike when v > threshold, reset to v_reset "
               "(snnTorch with reset_mechanism='zero' at dt=1e-4)", _literal),
    Convention("norse", 1e-3, "Norse 1.1 from_nir (dt=1e-3 s): forward Euler, r = 1 and v_reset = 0 for LIF, "
               "v_reset = 0 and a synapse that leaks to v_leak for CubaLIF, IF adds its input as it is", _norse),
    Convention("snntorch", 1e-4, "snnTorch 1.0 export_to_nir (dt=1e-4 s): Euler, the default 'subtract' reset "
               "one step after the spike (subtract_next)", _snntorch),
    Convention("rockpool", 1e-3, "Rockpool 3.1 (the module's dt, default 1e-3 s): exponential decays, input "
               "before the synaptic decay, subtractive reset; one spike per step (max_spikes_per_dt=1)", _rockpool),
    Convention("spyx", 1.0, "Spyx 1.0 (dt=1): input gain 1, subtract_next reset, spikes one step late", _spyx),
)}

# Frameworks whose reading of a NIR file spikec cannot compute, and why (read in their sources).
_UNTESTED = {"sinabs": "Sinabs 3.1's from_nir builds layers that emit several spikes per step (MultiSpike: "
                       "floor(v / threshold)) and clamp IAF membranes at -threshold (min_v_mem); spikec's neurons "
                       "emit one spike per step and do not clamp",
             "lava-dl": "lava-dl needs its own torch on Python 3.10"}


def convention(name: str) -> Convention:
    """The convention called ``name``; an unknown one is refused with the known ones."""
    key = name.strip().lower()
    if key in CONVENTIONS:
        return CONVENTIONS[key]
    why = f" ({_UNTESTED[key]})" if key in _UNTESTED else ""
    raise UnsupportedError(f"no NIR convention for source {name!r}{why}", parameter="source",
                           fix=f"use one of {sorted(CONVENTIONS)}, or 'nir' with the exporter's dt for the literal "
                               "reading")


def apply_convention(graph: ir.Graph, name: str) -> ir.Graph:
    """``graph`` (imported literally) as the framework ``name`` computes it; the graph's metadata
    says which convention was applied."""
    conv = convention(name)
    out = conv.transform(graph)
    return out.replace(metadata={**dict(out.metadata), "source": conv.name})
