"""The SFQ cell library and the physical constants the SFQ target is priced with, each a
:class:`~spikec.hardware.Sourced` number (SI units: seconds, amperes, watts, joules).

Cell timings and junction counts are PyLSE 0.1.0's (UCSBarchlab/PyLSE ``pylse/sfq_cells.py``,
BSD-3), copied as numbers with their citation, never as code.  The neuron and the synapse are
not PyLSE cells: Edwards et al. (Neuromorph. Comput. Eng. 4, 014005, 2024) give no junction
counts, so spikec composes them from cells whose counts are published, and says so
(``[D]``: derived, ``[G]``: a design assumption of spikec).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ...hardware import Sourced

__all__ = ["Cell", "CellLibrary", "PYLSE", "PHI0", "IC_TYPICAL", "CARNOT_4K", "SfqPhysics", "SFQ_PHYSICS"]

_PYLSE = "PyLSE 0.1.0 (UCSBarchlab/PyLSE, pylse/sfq_cells.py @5f7e65d, BSD-3) [V]"
_REF = "../shared/reference/targets-sfq-reram-digital.md §F.1"

PHI0 = Sourced(2.067833848e-15, "CODATA 2018 flux quantum h/2e, Wb")
IC_TYPICAL = Sourced(100e-6, "Ic = 100 uA, a typical SFQ junction (Rylyakov thesis: Ic*Phi0 = 2.07e-19 J at 100 uA; "
                             f"the RCSJ check in tests/targets/test_sfq_physics.py) ({_REF}); PyLSE gives no "
                             "per-cell Ic")
CARNOT_4K = Sourced(70.4, f"Carnot bound (300 K - 4.2 K) / 4.2 K = 70.4 W/W [D] ({_REF})")


@dataclass(frozen=True)
class Cell:
    """One cell: junctions it holds, junctions switched per pulse it emits, input-to-output delay,
    and the critical current of its junctions (a switch dissipates about Ic * Phi0)."""

    name: str
    jj: Sourced            # junctions in the cell (static power, area)
    switches: Sourced      # junctions that switch when it emits one pulse
    delay: Sourced         # s
    ic: Sourced = IC_TYPICAL   # A


def _cell(name: str, jj: int, delay_ps: float, source: str) -> Cell:
    return Cell(name, Sourced(jj, source), Sourced(jj, f"every junction of the cell flips once per pulse; {source}"),
                Sourced(delay_ps * 1e-12, source))


@dataclass(frozen=True)
class CellLibrary:
    """The cells a netlist is built from (PyLSE's where PyLSE has them)."""

    jtl: Cell = _cell("JTL", 2, 5.7, f"{_PYLSE}: JTL 2 JJ, 5.7 ps")
    splitter: Cell = _cell("splitter", 3, 4.3, f"{_PYLSE}: S 3 JJ, 4.3 ps")
    merger: Cell = _cell("merger", 7, 8.2, f"{_PYLSE}: M 7 JJ, firing delay 8.2 ps")
    merger_window: Sourced = Sourced(8.2e-12, f"{_PYLSE}: M transition_time 8.2 ps; a second input inside it is "
                                              "swallowed (Rylyakov thesis node11: two pulses may give one)")
    dro: Cell = _cell("DRO", 6, 5.1, f"{_PYLSE}: DRO (DFF) 6 JJ, 5.1 ps")
    dro_setup: Sourced = Sourced(2.3e-12, f"{_PYLSE}: DRO setup time 2.3 ps")
    # The clocked neuron: a storage loop with an excitatory and an inhibitory input branch of 2 JJ
    # each (Karamuftuoglu et al., arXiv 2402.16384: 2 JJs per input branch) read out by a DRO.
    neuron: Cell = Cell(
        "neuron", Sourced(10, "[D] 2 input branches x 2 JJ (Karamuftuoglu 2024) + DRO readout 6 JJ (PyLSE)"),
        Sourced(6, "[D] the DRO readout's 6 JJ flip when the neuron fires (PyLSE DRO); each stored fluxon flips "
                   "one input junction more (counted per fluxon)"),
        Sourced(5.1e-12, f"{_PYLSE}: DRO firing delay 5.1 ps (the readout)"))
    # A synapse gates each of its pulse slots with a bias-controlled junction pair (a JTL stage
    # whose bias sets whether, or how likely, the pulse passes: Edwards et al. 2024).
    synapse_jj_per_slot: Sourced = Sourced(2, "[G] one JTL-like stage (2 JJ, PyLSE JTL) per pulse slot; Edwards "
                                              "et al. 2024 publish no junction count")
    synapse: Cell = Cell(
        "synapse", Sourced(2, "[G] per slot, see synapse_jj_per_slot"),
        Sourced(2, "[G] the passing slot's 2 JJ flip per pulse; a blocked pulse flips its 1 escape junction"),
        Sourced(5.7e-12, f"[G] one JTL stage ({_PYLSE}: JTL 5.7 ps)"))

    def by_type(self) -> dict[str, Cell]:
        """The cell behind each of the kernel's cell types (runtime.sfq.CELL_TYPES)."""
        return {"jtl": self.jtl, "splitter": self.splitter, "merger": self.merger, "synapse": self.synapse,
                "neuron": self.neuron}

    def constants(self) -> dict[str, Sourced]:
        out: dict[str, Sourced] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Cell):
                out.update({f"{f.name}_jj": value.jj, f"{f.name}_switches": value.switches,
                            f"{f.name}_delay": value.delay, f"{f.name}_ic": value.ic})
            else:
                out[f.name] = value
        return out


PYLSE = CellLibrary()


@dataclass(frozen=True)
class SfqPhysics:
    """What energy is computed from besides the cells: static power per junction, cooling, the
    synapse bias range."""

    p_static_per_jj: Sourced = Sourced(2.15e-3 / 5822, "SuperSNN (arXiv 2509.05532, 2025): 2.15 mW static for "
                                                       "5,822 JJ -> 369 nW per JJ [D], RSFQ bias resistors")
    ersfq_residual: Sourced = Sourced(0.0, "ERSFQ: no bias-resistor power (Volkmann et al., SUST 2013); the residual "
                                           "of its current-limiting JJs (xeSFQ, arXiv 2411.03052) is an option")
    cooling: Sourced = Sourced(400.0, f"400 W/W at 4-5 K, the 'production' case of a course model [S] ({_REF}); "
                                      "Holmes et al. 2013 cited but its value not retrieved")
    bias_low: Sourced = Sourced(0.5, f"[G] synapse bias / Ic that never passes: the RCSJ run's 0.5 Ic kick gives "
                                     f"no slip ({_REF})")
    bias_high: Sourced = Sourced(0.7, f"[G] synapse bias / Ic that always passes: Ib = 0.7 Ic, the RCSJ run's "
                                      f"bias ({_REF})")

    def constants(self) -> dict[str, Sourced]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


SFQ_PHYSICS = SfqPhysics()
