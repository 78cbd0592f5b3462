"""Zero-shot reservoirs: an LSM whose weights the ReRAM devices' programming stochasticity
draws (the target's weight_sampler) performs like a Gaussian one of equal size and sparsity
(Lin et al., Nature Computational Science 2025: 89.66 vs 89.11 % on N-MNIST)."""

from __future__ import annotations

import pytest
from spikec.targets import get_target

lsm = pytest.importorskip("spikec.lsm")


def test_device_sampled_and_gaussian_reservoirs_agree_within_1_5_points_over_5_seeds() -> None:
    sampler = get_target("reram").device_weights()
    result = lsm.compare_weights(sampler, "gaussian", seeds=(0, 1, 2, 3, 4), data="digits", samples=300)
    assert min(result.a) > 0.8 and min(result.b) > 0.8          # both reservoirs actually learn
    assert result.gap_points <= 1.5, result
