"""The exact IR-drop nodal solve against badcrossbar 1.1.0 (the optional oracle, MIT), and the
effective-conductance model the compiled program uses, with its error measured."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from spikec.errors import UnsupportedError
from spikec.targets.reram.crossbar import approximation_error, effective_conductance, pair, solve

R_ON, R_OFF, V = 100e3, 1.7e6, 0.5


def _badcrossbar():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # its plotting needs pycairo, which is not installed
        return pytest.importorskip("badcrossbar")


@pytest.mark.parametrize("r", [1.0, 5.0])
def test_column_currents_match_badcrossbar_on_64x64(r: float) -> None:
    bc = _badcrossbar()
    rng = np.random.default_rng(int(r))
    resist = np.where(rng.random((64, 64)) < 0.5, R_ON, R_OFF)
    volts = np.concatenate([np.full((64, 1), V), (rng.random((64, 2)) < 0.3) * V], axis=1)
    ref = bc.compute(volts, resist, r).currents.output
    got, cells = solve(1.0 / resist, volts, r)
    np.testing.assert_allclose(got, ref, rtol=1e-3)
    # Kirchhoff: what leaves each column is what its cells pass.
    np.testing.assert_allclose(cells.sum(axis=1), got, rtol=1e-9)
    # The drop is real at these resistances (a few % of the ideal current on 64 x 64).
    ideal = volts.T @ (1.0 / resist)
    deficit = 1 - got[0].sum() / ideal[0].sum()
    assert 0.005 < deficit < 0.2


def test_tiny_wires_give_the_ideal_product() -> None:
    rng = np.random.default_rng(1)
    g = 1.0 / np.where(rng.random((20, 30)) < 0.5, R_ON, R_OFF)
    v = rng.random((20, 3))
    got, _ = solve(g, v, 1e-6)
    np.testing.assert_allclose(got, v.T @ g, rtol=1e-6)


def test_effective_conductance_is_exact_for_all_rows_and_its_error_is_small_otherwise() -> None:
    rng = np.random.default_rng(2)
    w = rng.integers(-15, 16, (64, 64))
    g_pos, _ = pair(w, levels=16, g_min=1 / R_OFF, g_max=1 / R_ON)
    g_eff = effective_conductance(g_pos, V, 1.0)
    exact, _ = solve(g_pos, np.full(64, V), 1.0)
    np.testing.assert_allclose(V * g_eff.sum(axis=0), exact[0], rtol=1e-9)
    assert np.all(g_eff < g_pos)
    err = approximation_error(g_pos, V, 1.0, active=0.2, trials=20, rng=rng)
    assert 0 < err < 0.01


def test_bad_wires_are_refused_by_name() -> None:
    with pytest.raises(UnsupportedError) as info:
        solve(np.ones((2, 2)), np.ones(2), 0.0)
    assert info.value.parameter == "wire_ohm"
    with pytest.raises(UnsupportedError) as info:
        pair(np.array([[16]]), levels=16, g_min=1e-7, g_max=1e-5)
    assert info.value.parameter == "weight_bits"
