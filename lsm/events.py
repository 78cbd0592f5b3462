r"""Event data without downloads: two generators with labels, for a visual and an audio-like modality.

:func:`digits_events` turns scikit-learn's bundled 8x8 digits (1,797 images, 10 classes) into
N-MNIST-style event streams.  N-MNIST (Orchard et al., "Converting static image datasets to spiking
neuromorphic datasets using saccades", Frontiers in Neuroscience 2015) moved an ATIS camera in
three saccades over a static image; an ATIS pixel emits an ON (OFF) event when its log intensity
has risen (fallen) by a contrast threshold since its last event.  Here:

1. the image (intensities 0..16 scaled to [0, 1]) sits in the middle of a ``(8 + 2 margin)^2``
   canvas and moves in three straight saccades around the closed triangle through ``(-a, -a)``,
   ``(a, -a)``, ``(0, a)`` (pixels; ``a = amplitude``), ``steps`` time steps in all (sub-pixel shifts by bilinear
   interpolation, ``scipy.ndimage.shift``);
2. per pixel, :math:`L = \log(I + \epsilon)` with :math:`\epsilon = 0.1`; the pixel keeps a
   reference level :math:`L_{ref}` (the first frame's :math:`L`), and at each step emits ON if
   :math:`L - L_{ref} > \theta`, OFF if :math:`L - L_{ref} < -\theta`, then moves :math:`L_{ref}` by
   :math:`\pm\theta` (at most one event per pixel, polarity and step, as a sensor's refractory
   period allows);
3. per sample, the amplitude and the start phase are jittered (``jitter``), and a fraction
   ``noise`` of (pixel, polarity, step) sites fire spuriously (sensor background activity).

The layout is ``(samples, steps, 2 * H * W)``: all ON channels, then all OFF channels.

:func:`audio_events` makes a second modality for the same ten classes: a cochleagram-style event
stream (``bands`` channels on a log-frequency axis, as a silicon cochlea or the Heidelberg
``SHD`` encoding give).  Class ``c`` is a fixed sequence of three "syllables", each two formants
(F1 in 300-900 Hz, F2 in 900-2,500 Hz) drawn once from ``np.random.default_rng(1000 + c)``;
a sample jitters pitch (a common factor ``exp(N(0, 0.05))``), syllable timing (+-10 %) and
loudness, turns each band's energy (a Gaussian tuning curve, 1/8 octave wide, around each formant)
into a spike probability per step ``rate * energy``, and adds background spikes at ``noise``.
Both generators are seeded (sample ``s`` from ``np.random.default_rng((seed, s))``, so the first
``k`` samples do not depend on how many are made) and return :class:`EventSet`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SimulationError

__all__ = ["EventSet", "digits_events", "audio_events", "log_events", "DIGIT_EPS"]

DIGIT_EPS = 0.1
_F1, _F2 = (300.0, 900.0), (900.0, 2500.0)
_LOW_HZ, _HIGH_HZ = 200.0, 4000.0


@dataclass(frozen=True)
class EventSet:
    """Binned events ``(samples, steps, channels)`` (uint8: 0/1) with one label per sample."""

    events: np.ndarray
    labels: np.ndarray
    shape: tuple[int, ...]     # the sensor layout of the channels, e.g. (2, 10, 10) or (32,)
    source: str

    def __post_init__(self) -> None:
        if self.events.ndim != 3 or self.labels.shape != (self.events.shape[0],):
            raise SimulationError(f"events of shape {self.events.shape} with labels of shape {self.labels.shape}",
                                  parameter="events", fix="(samples, steps, channels) and one label per sample")

    @property
    def samples(self) -> int:
        return int(self.events.shape[0])

    def take(self, index: np.ndarray | slice) -> "EventSet":
        return EventSet(self.events[index], self.labels[index], self.shape, self.source)


def _count(value: object, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise SimulationError(f"{name}={value!r}", parameter=name, limit=f">= {minimum}",
                              fix=f"a whole number >= {minimum}")
    return int(value)


def _fraction(value: object, name: str, upper: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= upper:
        raise SimulationError(f"{name}={value!r}", parameter=name, limit=f"0 .. {upper}", fix="a number in range")
    return float(value)


def _saccade_path(steps: int, amplitude: float, phase: float) -> np.ndarray:
    """(steps, 2) shifts along the closed triangle of three saccades, starting ``phase`` of the way."""
    corners = amplitude * np.array([[-1.0, -1.0], [1.0, -1.0], [0.0, 1.0], [-1.0, -1.0]])
    u = (phase + np.arange(steps) / steps) % 1.0 * 3.0
    k = np.minimum(u.astype(int), 2)
    f = (u - k)[:, None]
    return corners[k] * (1 - f) + corners[k + 1] * f


def digits_events(samples: int | None = None, *, steps: int = 30, threshold: float = 0.3, amplitude: float = 1.0,
                  margin: int = 1, jitter: float = 0.2, noise: float = 0.002, seed: int = 0) -> EventSet:
    """N-MNIST-style ON/OFF events from scikit-learn's digits (module docstring); the first
    ``samples`` digits (all 1,797 when None), each ``steps`` long."""
    from scipy.ndimage import shift
    from sklearn.datasets import load_digits

    steps, margin = _count(steps, "steps", 2), _count(margin, "margin", 0)
    threshold = _fraction(threshold, "threshold", 10.0)
    if threshold == 0:
        raise SimulationError("threshold=0 makes every change an event", parameter="threshold", limit="> 0",
                              fix="a log-intensity contrast such as 0.3")
    amplitude, jitter, noise = _fraction(amplitude, "amplitude", 4.0), _fraction(jitter, "jitter"), \
        _fraction(noise, "noise")
    digits = load_digits()
    images, labels = digits.images / 16.0, digits.target.astype(np.int64)
    if samples is not None:
        images, labels = images[:_count(samples, "samples")], labels[:samples]
    seed = _count(seed, "seed", 0)
    side = 8 + 2 * margin
    out = np.zeros((len(images), steps, 2, side, side), np.uint8)
    for s, image in enumerate(images):
        rng = np.random.default_rng((seed, s))  # sample s is the same whatever the sample count
        canvas = np.pad(image, margin)
        a = amplitude * (1.0 + jitter * rng.uniform(-1, 1))
        frames = np.stack([shift(canvas, d, order=1, mode="constant") for d in
                           _saccade_path(steps, a, rng.uniform(0, jitter))])
        out[s] = log_events(frames, threshold)
        if noise:
            out[s] |= (rng.random(out[s].shape) < noise).astype(np.uint8)
    return EventSet(out.reshape(len(images), steps, -1), labels, (2, side, side),
                    f"scikit-learn digits as saccade events ({steps} steps, threshold {threshold:g}, seed {seed})")


def log_events(frames: np.ndarray, threshold: float) -> np.ndarray:
    """ON/OFF events ``(steps, 2, *pixel_shape)`` of intensity ``frames`` ``(steps, *pixel_shape)``
    by the rule of step 2 of the module docstring (the first frame sets the reference)."""
    level = np.log(np.clip(frames, 0, None) + DIGIT_EPS)
    out = np.zeros((level.shape[0], 2, *level.shape[1:]), np.uint8)
    ref = level[0].copy()
    for t in range(1, level.shape[0]):
        on, off = level[t] - ref > threshold, ref - level[t] > threshold
        out[t, 0], out[t, 1] = on, off
        ref += threshold * (on.astype(np.float64) - off)
    return out


def _class_formants(label: int) -> np.ndarray:
    """(3 syllables, 2 formants) in Hz for one class: fixed, from its own seed."""
    rng = np.random.default_rng(1000 + label)
    return np.stack([rng.uniform(*_F1, 3), rng.uniform(*_F2, 3)], axis=1)


def audio_events(labels: np.ndarray | int = 10, *, per_class: int = 1, steps: int = 30, bands: int = 32,
                 rate: float = 0.6, noise: float = 0.01, seed: int = 0) -> EventSet:
    """Cochleagram-style events of tone/formant sequences (module docstring).

    ``labels``: the class of each sample (an array), or a class count ``k`` for ``per_class``
    samples of each of the classes ``0..k-1``."""
    if isinstance(labels, (int, np.integer)) and not isinstance(labels, bool):
        labels = np.repeat(np.arange(_count(labels, "labels")), _count(per_class, "per_class"))
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or (labels.size and labels.min() < 0):
        raise SimulationError(f"labels of shape {labels.shape} and dtype {labels.dtype}", parameter="labels",
                              fix="class indices >= 0, one per sample")
    steps, bands = _count(steps, "steps", 3), _count(bands, "bands", 2)
    rate, noise = _fraction(rate, "rate"), _fraction(noise, "noise")
    seed = _count(seed, "seed", 0)
    centres = np.log2(np.geomspace(_LOW_HZ, _HIGH_HZ, bands))
    out = np.zeros((labels.size, steps, bands), np.uint8)
    for s, label in enumerate(labels.astype(np.int64)):
        rng = np.random.default_rng((seed, s))
        formants = _class_formants(int(label)) * np.exp(rng.normal(0, 0.05))
        bounds = np.sort(np.clip(np.array([1, 2]) / 3 + rng.uniform(-0.1, 0.1, 2) / 3, 0.05, 0.95)) * steps
        syllable = np.searchsorted(bounds, np.arange(steps) + 0.5)
        octaves = np.log2(formants[syllable])                           # (steps, 2)
        energy = np.exp(-0.5 * ((centres[None, None, :] - octaves[:, :, None]) / 0.125) ** 2).sum(1)
        loud = np.clip(rng.normal(1.0, 0.1), 0.5, 1.5)
        p = np.clip(rate * loud * np.minimum(energy, 1.0) + noise, 0, 1)
        out[s] = rng.random((steps, bands)) < p
    return EventSet(out, labels.astype(np.int64), (bands,),
                    f"formant-sequence cochleagram events ({bands} bands, {steps} steps, seed {seed})")
