"""Weight distributions: names, samplers, and the unit-RMS normalisation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spikec.errors import SpikecError
from spikec.lsm.weights import SOFTWARE, draw, gaussian, sampler_for, uniform


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(sorted(SOFTWARE)), st.integers(1, 500), st.integers(0, 2**31))
def test_drawn_weights_have_unit_rms_and_keep_signs(name: str, n: int, seed: int) -> None:
    w = draw(name, np.random.default_rng(seed), n)
    raw = SOFTWARE[name](np.random.default_rng(seed), n)
    assert w.shape == (n,)
    assert np.sqrt(np.mean(w * w)) == pytest.approx(1.0, rel=1e-12)
    assert np.array_equal(np.sign(w), np.sign(raw))


def test_a_callable_is_its_own_sampler_and_scale_does_not_matter() -> None:
    def device(rng: np.random.Generator, n: int) -> np.ndarray:
        return 40e-6 * rng.lognormal(0, 0.3, n) - 38e-6   # a conductance difference, siemens

    assert sampler_for(device) is device
    a = draw(device, np.random.default_rng(3), 1000)
    b = draw(lambda rng, n: 1e6 * device(rng, n), np.random.default_rng(3), 1000)
    np.testing.assert_allclose(a, b, rtol=1e-9)


def test_gaussian_and_uniform_shapes() -> None:
    rng = np.random.default_rng(0)
    u = uniform(rng, 20000)
    assert u.min() >= -1 and u.max() <= 1 and abs(u.mean()) < 0.02
    g = gaussian(rng, 20000)
    assert abs(g.std() - 1) < 0.03


@pytest.mark.parametrize("sampler, words", [
    ("cauchy", "unknown weight distribution"),
    (lambda rng, n: np.ones(n + 1), "shape"),
    (lambda rng, n: np.full(n, np.nan), "non-finite"),
    (lambda rng, n: np.zeros(n), "only zeros"),
    (lambda rng, n: np.array(["a"] * n), "values of shape"),
])
def test_bad_distributions_are_refused_by_name(sampler: object, words: str) -> None:
    with pytest.raises(SpikecError, match=words) as info:
        draw(sampler, np.random.default_rng(0), 5)  # type: ignore[arg-type]
    assert info.value.parameter == "weights"
