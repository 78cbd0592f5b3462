"""The whole workflow (run_lsm), the weight-distribution comparison, and the zero-shot heads."""

from __future__ import annotations

import numpy as np
import pytest
from spikec import api, ir
from spikec.errors import SpikecError, UnsupportedError
from spikec.lsm import (
    audio_events,
    build_reservoir,
    compare_weights,
    extract_states,
    run_lsm,
    save_reservoir,
    tune_branching,
    weight_distribution,
)
from spikec.lsm.zeroshot import prototypes, train_heads


def test_gaussian_and_uniform_reservoirs_agree_over_five_seeds() -> None:
    # Equal size and sparsity (the seed fixes the synapses); only the distribution's shape differs.
    # 898 test digits per seed: one digit is 0.11 points, so the 1.5-point bound is not noise-bound.
    # Measured: 91.98 % (uniform) vs 91.38 % (Gaussian).  The same helper takes a device sampler.
    cmp = compare_weights("uniform", "gaussian", samples=None, n_neurons=100, readout="ridge", test_fraction=0.5)
    assert len(cmp.a) == len(cmp.b) == 5
    assert cmp.gap_points <= 1.5
    assert min(cmp.a + cmp.b) > 0.8


def test_device_weights_come_from_the_target() -> None:
    with pytest.raises(UnsupportedError, match="needs a target"):
        weight_distribution("device", None)
    with pytest.raises(UnsupportedError, match="no device weight distribution"):
        weight_distribution("device", "loihi2")
    assert weight_distribution("uniform", "loihi2") == "uniform"
    chip = api.get_target("reram") if "reram" in api.target_names() else None
    if chip is None or chip.weight_sampler is None:
        pytest.skip("no target with a device weight distribution is installed")
    sampler = weight_distribution("device", "reram")
    r = build_reservoir(10, 40, weights=sampler, seed=0)
    assert r.rec_unit.size and np.isfinite(r.rec_unit).all()


def test_run_lsm_on_audio_events_and_the_saved_graph_runs_elsewhere(tmp_path) -> None:
    result = run_lsm("audio", samples=120, n_neurons=80, seed=1, readout="ridge")
    assert result.accuracy >= 0.8 and result.energy > 0 and result.latency > 0
    path = save_reservoir(result.reservoir, tmp_path / "lsm.npz")
    graph = api.load(path)
    x = audio_events(3).events
    np.testing.assert_array_equal(ir.simulate(graph, x.astype(np.float64), dtype=np.float64).output,
                                  ir.simulate(result.reservoir.graph, x.astype(np.float64), dtype=np.float64).output)


@pytest.mark.parametrize("kwargs, parameter", [
    ({"test_fraction": 1.5}, "test_fraction"), ({"samples": 2}, "samples"), ({"tune_samples": 0}, "tune_samples"),
    ({"weights": "device"}, "weights"), ({"data": "mnist"}, "data"), ({"readout": "svm"}, "readout"),
])
def test_bad_workflow_arguments_are_named(kwargs: dict, parameter: str) -> None:
    args = {"data": "audio", "samples": 40, "n_neurons": 30, **kwargs}
    with pytest.raises(SpikecError) as info:
        run_lsm(args.pop("data"), **args)
    assert info.value.parameter == parameter


def test_zero_shot_prototypes_recognise_unseen_classes() -> None:
    # Heads trained on classes 0-6 of paired audio-like events; classes 7-9 recognised from 10
    # support samples each by their prototypes (chance: 1/3).  Measured: 0.91.
    labels = np.repeat(np.arange(10), 40)
    a, b = audio_events(labels, seed=1, bands=24), audio_events(labels, seed=2)
    ra = tune_branching(build_reservoir(24, 100, p_input=0.3, seed=1), a.events[:60]).reservoir
    rb = tune_branching(build_reservoir(32, 100, p_input=0.3, seed=2), b.events[:60]).reservoir
    fa, fb = extract_states(ra, a.events).features, extract_states(rb, b.events).features
    seen = labels < 7
    heads = train_heads(fa[seen], fb[seen], labels[seen], epochs=15, seed=0)
    unseen = np.flatnonzero(~seen)
    support = np.concatenate([unseen[labels[unseen] == c][:10] for c in (7, 8, 9)])
    query = np.setdiff1d(unseen, support)
    protos = prototypes(heads, fb[support], labels[support], "b")
    accuracy = float(np.mean(heads.classify(fb[query], "b", protos) == labels[query]))
    assert accuracy > 0.6
    with pytest.raises(SpikecError):
        heads.embed(fa, "c")
