r"""Clock cycles Xylo Audio 2's SNN core spends on one time step, and the clock that needs.

A clean-room restatement of the published model in rockpool 3.1.0
(``devices/xylo/syns61201/power_cycles_model.py``, ``cycles_model``) for networks without aliases.
With :math:`N_{in}, N_{hid}, N_{out}` the layer sizes, :math:`F` the mean number of non-zero
synapse-1 recurrent weights per hidden neuron (its fan-out), and :math:`p_{in}, p_{hid}` the
fractions of input channels and hidden neurons with at least one event in the step (a burst of
events costs what one does)::

    cycles = N_in (p_in N_hid c_in + 1)                       input events, one loop per channel
           + N_hid (F c_rec p_hid + 3)                         recurrent currents
           + N_hid p_hid (1 + N_out c_out)                     readout currents
           + N_hid (c_hid + 3 p_hid)                           hidden neuron updates
           + N_out c_outn                                      output neuron updates

Since the cycles are linear in the activity, the mean over steps equals the model at the mean
activity, which is what rockpool's function returns for whole rasters.  The second synaptic
current runs in parallel and adds no cycles (rockpool's ``additional_isyn2_ops``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ...errors import SimulationError, SpecError
from ...hardware import Sourced

__all__ = ["XyloCycleCosts", "XYLO_CYCLES", "cycles", "clock_needed", "ClockCheck", "check_clock"]

_SRC = "rockpool 3.1.0 devices/xylo/syns61201/power_cycles_model.py cycles_model [V]"


@dataclass(frozen=True)
class XyloCycleCosts:
    """The model's constants (master-clock cycles)."""

    c_in: Sourced = Sourced(3.5, f"{_SRC}: input_loop_cycles = 3.5 per (input event, hidden neuron)")
    c_in_channel: Sourced = Sourced(1, f"{_SRC}: + 1 per input channel")
    c_rec: Sourced = Sourced(7, f"{_SRC}: hidden_update_cycles = 7 per recurrent synapse of a spiking neuron")
    c_rec_neuron: Sourced = Sourced(3, f"{_SRC}: + 3 per hidden neuron (Isyn stage)")
    c_out: Sourced = Sourced(8, f"{_SRC}: output_isyn_update_cycles = 8 per readout synapse of a spiking neuron")
    c_out_neuron: Sourced = Sourced(1, f"{_SRC}: + 1 per spiking hidden neuron (readout stage)")
    c_hid: Sourced = Sourced(19, f"{_SRC}: fixed_hidden_neuron_cycles = 19")
    c_hid_spike: Sourced = Sourced(3, f"{_SRC}: 2 + 1 cycles per spiking hidden neuron (no aliases)")
    c_outn: Sourced = Sourced(12, f"{_SRC}: fixed_output_neuron_spk_cycles = 12")

    def constants(self) -> dict[str, Sourced]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


XYLO_CYCLES = XyloCycleCosts()


def cycles(n_in: int, n_hid: int, n_out: int, fanout: float, p_in: np.ndarray | float, p_hid: np.ndarray | float,
           costs: XyloCycleCosts = XYLO_CYCLES) -> np.ndarray:
    """Cycles of one step (see the module docstring); ``p_in``/``p_hid`` may be arrays (one per step)."""
    p_in, p_hid = np.asarray(p_in, float), np.asarray(p_hid, float)
    for name, p in (("p_in", p_in), ("p_hid", p_hid)):
        if p.size and (p.min() < 0 or p.max() > 1 or not np.all(np.isfinite(p))):
            raise SimulationError(f"{name} spans [{p.min()}, {p.max()}]", parameter=name, limit="0..1")
    c = {k: float(v.value) for k, v in costs.constants().items()}
    return (n_in * (p_in * n_hid * c["c_in"] + c["c_in_channel"])
            + n_hid * (fanout * c["c_rec"] * p_hid + c["c_rec_neuron"])
            + n_hid * p_hid * (c["c_out_neuron"] + n_out * c["c_out"])
            + n_hid * (c["c_hid"] + c["c_hid_spike"] * p_hid)
            + n_out * c["c_outn"])


def clock_needed(step_cycles: float, dt: float, margin: float = 0.2) -> float:
    """The slowest master clock (Hz) that finishes ``step_cycles`` within ``dt`` with ``margin`` to
    spare (rockpool's ``est_clock_freq``: ``cycles (1 + margin) / dt``)."""
    if not dt > 0:
        raise SpecError(f"dt = {dt}", parameter="dt", limit="> 0")
    if margin < 0:
        raise SpecError(f"margin = {margin}", parameter="margin", limit=">= 0")
    return float(step_cycles) * (1.0 + margin) / dt


@dataclass(frozen=True)
class ClockCheck:
    """Whether a run keeps real time at a clock: the worst step and the mean step."""

    clock_hz: float
    dt: float
    margin: float
    worst_cycles: float
    mean_cycles: float
    worst_case_cycles: float          # every channel and neuron active every step

    @property
    def needed_hz(self) -> float:
        return clock_needed(self.worst_cycles, self.dt, self.margin)

    @property
    def worst_case_hz(self) -> float:
        return clock_needed(self.worst_case_cycles, self.dt, self.margin)

    @property
    def fits(self) -> bool:
        return self.needed_hz <= self.clock_hz

    def explain(self) -> str:
        head = (f"Xylo cycles per step: mean {self.mean_cycles:,.0f}, busiest {self.worst_cycles:,.0f}, worst case "
                f"{self.worst_case_cycles:,.0f}; at dt = {self.dt * 1e3:g} ms with {self.margin:.0%} margin the "
                f"busiest step needs {self.needed_hz / 1e6:.3g} MHz (worst case {self.worst_case_hz / 1e6:.3g} MHz)")
        if self.fits:
            return head + f": fits the {self.clock_hz / 1e6:g} MHz clock"
        return (head + f": does NOT fit the {self.clock_hz / 1e6:g} MHz clock. Fix: a longer dt "
                f"(>= {self.worst_cycles * (1 + self.margin) / self.clock_hz * 1e3:.3g} ms), fewer hidden neurons or "
                "lower activity")


def check_clock(step_cycles: np.ndarray, worst_case: float, *, clock_hz: float, dt: float,
                margin: float) -> ClockCheck:
    """A :class:`ClockCheck` of per-step cycles ``step_cycles`` (any shape)."""
    arr = np.asarray(step_cycles, float)
    if arr.size == 0:
        raise SimulationError("the run has no steps", parameter="steps")
    return ClockCheck(float(clock_hz), float(dt), float(margin), float(arr.max()), float(arr.mean()), float(worst_case))
