"""Liquid state machines as ordinary spikec graphs, on any target.

- :mod:`.reservoir`: :func:`build_reservoir` (LIF population, E/I split, random or Maass 2002
  distance-dependent recurrence on a 3-D grid, sparse input) -> :class:`Reservoir` (its Graph);
- :mod:`.weights`: weight distributions ("gaussian", "uniform", or a sampler such as a target's
  ``device_weights``);
- :mod:`.branching`: :func:`branching_factor` (NALSM's descendant spikes per ancestor spike) and
  :func:`tune_branching` (edge-of-chaos scale);
- :mod:`.states`: :func:`run_reservoir` / :func:`extract_states` on the reference simulator, the C
  engine or any target's backend, through :mod:`spikec.api`;
- :mod:`.readout`: :func:`train_readout` (scikit-learn ridge / logistic);
- :mod:`.zeroshot`: a contrastive projection head and class prototypes (multimodal zero-shot);
- :mod:`.events`: :func:`digits_events` (N-MNIST-style saccades) and :func:`audio_events`
  (cochleagram-style formant sequences); :mod:`.loaders`: :func:`load_nmnist`, :func:`load_shd`;
- :mod:`.workflow`: :func:`run_lsm`, what ``spikec lsm`` runs.
"""

from .branching import Tuning, branching_factor, tune_branching
from .compare import WeightComparison, compare_weights
from .events import EventSet, audio_events, digits_events
from .loaders import RawEvents, bin_events, load_nmnist, load_shd
from .readout import READOUTS, Readout, train_readout
from .reservoir import Reservoir, build_reservoir
from .states import ReservoirRun, States, extract_states, run_reservoir, state_features
from .weights import draw, sampler_for
from .workflow import LSMResult, load_events, run_lsm, save_reservoir, weight_distribution

__all__ = [
    "Reservoir", "build_reservoir", "draw", "sampler_for",
    "branching_factor", "tune_branching", "Tuning",
    "run_reservoir", "extract_states", "state_features", "ReservoirRun", "States",
    "Readout", "train_readout", "READOUTS",
    "EventSet", "digits_events", "audio_events", "RawEvents", "load_nmnist", "load_shd", "bin_events",
    "LSMResult", "run_lsm", "load_events", "weight_distribution", "save_reservoir", "WeightComparison",
    "compare_weights",
]
