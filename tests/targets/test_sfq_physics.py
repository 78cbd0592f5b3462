"""The SFQ energy constant from physics: one Josephson junction in the RCSJ model (scipy)
switches once, its voltage pulse holds one flux quantum, and the shunt dissipates about Ic*Phi0,
the energy the SFQ price charges per junction switch."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from spikec.targets.sfq import PYLSE, costs_for
from spikec.targets.sfq.cells import PHI0

IC = 100e-6            # A
IC_RN = 0.5e-3         # V
BETA_C = 1.0
R = IC_RN / IC
C = BETA_C * PHI0.value / (2 * np.pi * IC * R**2)
K = PHI0.value / (2 * np.pi)   # V s per radian


def rcsj_kick(amplitude: float, width_ps: float, *, bias: float = 0.7, t_end_ps: float = 60.0) -> dict[str, float]:
    """A junction biased at ``bias`` * Ic, kicked by ``amplitude`` * Ic for ``width_ps`` at 5 ps:
    C K phi'' + (K / R) phi' + Ic sin(phi) = I(t), with time in ps."""
    def current(t: float) -> float:
        return IC * (bias + (amplitude if 5.0 <= t < 5.0 + width_ps else 0.0))

    def rhs(t: float, y: np.ndarray) -> list[float]:
        phi, w = y   # w: rad/ps
        return [w, (current(t) - IC * np.sin(phi) - K / R * w * 1e12) / (C * K * 1e24)]

    phi0 = np.arcsin(bias)
    sol = solve_ivp(rhs, (0.0, t_end_ps), [phi0, 0.0], method="DOP853", rtol=1e-10, atol=1e-12, max_step=0.02,
                    dense_output=True)
    t = np.linspace(0.0, t_end_ps, 60_001)
    v = K * sol.sol(t)[1] * 1e12
    area = np.trapezoid(v, t * 1e-12) if hasattr(np, "trapezoid") else np.trapz(v, t * 1e-12)
    heat = np.trapezoid(v**2 / R, t * 1e-12) if hasattr(np, "trapezoid") else np.trapz(v**2 / R, t * 1e-12)
    return {"area": area, "heat": heat, "v_peak": float(v.max()), "slips": (sol.y[0, -1] - phi0) / (2 * np.pi)}


@pytest.fixture(scope="module")
def switch() -> dict[str, float]:
    return rcsj_kick(0.8, 2.0)


def test_one_switch_is_one_flux_quantum(switch) -> None:
    assert round(switch["slips"]) == 1
    assert switch["area"] == pytest.approx(PHI0.value, rel=1e-3)
    assert 0.6e-3 < switch["v_peak"] < 0.8e-3   # ~0.70 mV (reference notes §F.1)


def test_the_dissipated_energy_is_ic_phi0_as_the_price_charges(switch) -> None:
    costs = costs_for({})   # every cell's default Ic is the junction simulated here
    for kind in costs.ic:
        assert costs.switch_energy(kind) == pytest.approx(IC * PHI0.value, rel=1e-12)
        assert 0.8 <= switch["heat"] / costs.switch_energy(kind) <= 1.0


def test_a_weak_kick_does_not_switch() -> None:
    weak = rcsj_kick(0.5, 1.5)
    assert round(weak["slips"]) == 0 and abs(weak["area"]) < 1e-3 * PHI0.value


def test_the_pulse_is_as_fast_as_the_cells_assume(switch) -> None:
    # The pulse's equivalent width (area / peak, ~3 ps) is shorter than one JTL stage's delay.
    assert 2e-12 < switch["area"] / switch["v_peak"] < PYLSE.jtl.delay.value
