"""The two event generators: shapes, seeds, the ON/OFF rule, and class structure."""

from __future__ import annotations

import numpy as np
import pytest
from spikec.errors import SpikecError
from spikec.lsm import audio_events, digits_events
from spikec.lsm.events import DIGIT_EPS, _saccade_path, log_events


def test_digits_events_layout_and_seed(digits) -> None:
    assert digits.events.shape == (400, 30, 200) and digits.shape == (2, 10, 10)
    assert digits.events.dtype == np.uint8 and set(np.unique(digits.events)) <= {0, 1}
    np.testing.assert_array_equal(digits.labels[:10], np.arange(10))  # scikit-learn's order
    again = digits_events(5)
    np.testing.assert_array_equal(again.events, digits.events[:5])
    assert not np.array_equal(digits_events(5, seed=1).events, again.events)


def test_a_still_image_emits_nothing_and_motion_emits_both_polarities() -> None:
    still = digits_events(3, amplitude=0.0, jitter=0.0, noise=0.0)
    assert still.events.sum() == 0
    moving = digits_events(3, noise=0.0).events.reshape(3, 30, 2, 100)
    assert moving[:, :, 0].sum() > 0 and moving[:, :, 1].sum() > 0
    assert moving[:, 0].sum() == 0  # the first frame is the reference level


def test_one_event_per_threshold_crossing() -> None:
    # A higher threshold can only remove events: every crossing of 0.6 is a crossing of 0.3 at least once.
    low = digits_events(20, threshold=0.3, noise=0.0).events.sum()
    high = digits_events(20, threshold=0.6, noise=0.0).events.sum()
    assert 0 < high < low


def test_saccades_close_the_triangle() -> None:
    path = _saccade_path(30, 1.0, 0.0)
    np.testing.assert_allclose(path[0], [-1, -1])
    np.testing.assert_allclose(path[10], [1, -1])
    np.testing.assert_allclose(path[20], [0, 1])
    assert np.abs(path).max() <= 1.0


def test_audio_events_are_class_specific_and_seeded() -> None:
    a = audio_events(10, per_class=20, seed=0)
    assert a.events.shape == (200, 30, 32) and a.shape == (32,)
    profile = a.events.mean(axis=1).reshape(10, 20, 32).mean(1)   # mean band activity per class
    within = np.mean([np.abs(a.events[i].mean(0) - profile[a.labels[i]]).sum() for i in range(200)])
    between = np.mean([np.abs(profile[i] - profile[j]).sum() for i in range(10) for j in range(10) if i != j])
    assert between > 2 * within
    np.testing.assert_array_equal(audio_events(np.array([3, 1]), seed=4).events,
                                  audio_events(np.array([3, 1]), seed=4).events)


@pytest.mark.parametrize("call", [
    lambda: digits_events(0), lambda: digits_events(3, steps=1), lambda: digits_events(3, threshold=0.0),
    lambda: digits_events(3, noise=2.0), lambda: audio_events(np.array([-1])), lambda: audio_events(3, bands=1),
    lambda: audio_events(3, rate=1.5),
])
def test_bad_generator_arguments(call) -> None:
    with pytest.raises(SpikecError):
        call()


def test_the_log_intensity_rule_by_hand() -> None:
    # One pixel: log level jumps by 0.4 at step 1 and stays (one ON, the reference follows by the
    # threshold, 0.1 is left), then falls by 0.75 at step 3 (OFF at steps 3 and 4: two thresholds).
    levels = np.log(np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0]) + DIGIT_EPS) + np.array([0, 0.4, 0.4, -0.35, -0.35, -0.35])
    frames = (np.exp(levels) - DIGIT_EPS)[:, None]
    ev = log_events(frames, 0.3)
    np.testing.assert_array_equal(ev[:, 0, 0], [0, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(ev[:, 1, 0], [0, 0, 0, 1, 1, 0])
