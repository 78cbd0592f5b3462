"""ReRAM device models against the published coefficient tables (aihwkit 1.2.0 fits), their
sampled spreads, and the zero-shot weight sampler."""

from __future__ import annotations

import numpy as np
import pytest
from spikec.errors import UnsupportedError
from spikec.targets import get_target
from spikec.targets.reram.devices import DEVICES, device, program, stick

US = 1e-6
X = np.array([0.0, 0.25, 0.5, 0.75, 1.0])


@pytest.mark.parametrize("t, table", [
    (1.0, [0.348, 2.258, 2.023, 1.533, 1.103]),
    (86400.0, [0.701, 3.721, 3.909, 3.366, 2.651]),
    (172800.0, [0.782, 3.664, 3.929, 3.374, 2.677]),
])
def test_wan2022_sigma_equals_its_table_at_40_uS(t: float, table: list[float]) -> None:
    sigma = device("wan2022").sigma(X * 40 * US, 40 * US, t) / US
    np.testing.assert_allclose(sigma, table, atol=1e-3)


def test_wan2022_scales_with_g_max_as_aihwkit_does() -> None:
    m = device("wan2022")
    np.testing.assert_allclose(m.sigma(X * 10 * US, 10 * US), m.sigma(X * 40 * US, 40 * US) / 4, rtol=1e-12)


def test_pcm_like_sigma_equals_its_table_at_25_uS() -> None:
    sigma = device("pcm_like").sigma(np.array([0.0, 0.5, 1.0]) * 25 * US, 25 * US) / US
    np.testing.assert_allclose(sigma, [0.263, 0.953, 1.055], atol=1e-3)


@pytest.mark.parametrize("name, c0, c1", [("cmo", 0.0112185391, 0.01129027418), ("cmo0.2", 0.00081107, 0.00106879)])
def test_cmo_sigma_is_linear_in_g_in_microsiemens(name: str, c0: float, c1: float) -> None:
    g = np.array([0.0, 5.0, 20.0, 40.0])
    np.testing.assert_allclose(device(name).sigma(g * US, 40 * US) / US, c0 + c1 * g, rtol=1e-12)


def test_cmo_relaxation_shifts_and_widens_with_log_time() -> None:
    m = device("cmo")
    t = 3600.0
    assert m.shift(t) == pytest.approx(-0.08900206 * np.log(t) * US)
    relax = 0.04201137 * np.log(t) + 0.41183342
    prog = 0.0112185391 + 0.01129027418 * 20
    assert m.sigma(np.array([20 * US]), 40 * US, t)[0] / US == pytest.approx(np.hypot(prog, relax))


@pytest.mark.parametrize("name", ["wan2022", "pcm_like", "cmo"])
def test_programmed_spread_of_1e5_devices_is_within_2_percent_of_sigma(name: str) -> None:
    m = device(name)
    g_max = 40 * US
    rng = np.random.default_rng(5)
    # CMO clamps into [g_min, g_max]: keep its targets many sigmas inside.
    for x in ((0.25, 0.5, 0.75, 1.0) if m.g_floor == "zero" else (0.25, 0.5, 0.75)):
        target = np.full(100_000, x * g_max)
        g = program(target, m, g_min=0.0, g_max=g_max, t=1.0, scale=1.0, rng=rng)
        sigma = m.sigma(target[:1], g_max)[0]
        assert abs(g.std() / sigma - 1) < 0.02, (name, x)
        assert abs(g.mean() - x * g_max) < 4 * sigma / np.sqrt(g.size)


def test_read_times_outside_a_fit_are_refused_by_name() -> None:
    with pytest.raises(UnsupportedError) as info:
        device("wan2022").sigma(np.ones(2) * US, 40 * US, 10.0)
    assert info.value.parameter == "read_time" and "86400" in info.value.fix
    with pytest.raises(UnsupportedError) as info:
        device("memristor9000")
    assert info.value.parameter == "device"


def test_stuck_devices_sit_at_the_rails_in_the_published_share() -> None:
    rng = np.random.default_rng(6)
    g = np.full(200_000, 5 * US)
    out, n = stick(g, 0.05, 0.838, g_min=1 * US, g_max=10 * US, rng=rng)
    assert abs(n / g.size - 0.05) < 0.003
    on, off = (out == 10 * US).sum(), (out == 1 * US).sum()
    assert on + off == n and abs(on / n - 0.838) < 0.01


def test_device_sampler_draws_the_pair_difference_of_the_programmed_state_spread() -> None:
    target = get_target("reram")
    sample = target.device_weights({"device": "wan2022"})
    a = sample(np.random.default_rng(7), 100_000)
    np.testing.assert_array_equal(a, sample(np.random.default_rng(7), 100_000))   # seeded
    from spikec.targets.reram import RERAM_CHIP, SAMPLE_LEVEL
    g_mid = RERAM_CHIP.g_min + SAMPLE_LEVEL * (RERAM_CHIP.g_max - RERAM_CHIP.g_min)
    sigma = DEVICES["wan2022"].sigma(np.array([g_mid]), RERAM_CHIP.g_max)[0]
    assert a.shape == (100_000,)
    assert abs(a.std() / (np.sqrt(2) * sigma) - 1) < 0.02
    assert abs(a.mean()) < 4 * a.std() / np.sqrt(a.size)
    wider = target.device_weights({"device": "wan2022", "read_time": 86400.0})(np.random.default_rng(7), 10_000)
    assert wider.std() > 1.5 * a.std()


def test_a_sampler_without_device_spread_is_refused() -> None:
    with pytest.raises(UnsupportedError) as info:
        get_target("reram").device_weights({"noise_scale": 0.0})
    assert info.value.parameter == "noise_scale"
