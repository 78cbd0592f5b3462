"""spikec.targets.loihi2: Intel Loihi 2 through Lava — spec, cost table, lowering to Lava's
fixed-point LIF arithmetic and timing, and the Lava exporter/runner."""

from .backend import LavaRun, lava_available, run_lava
from .compile import compile_loihi2
from .costs import LOIHI2
from .encode import LavaNetwork, encode, loihi_timing
from .spec import LOIHI2_SPEC
from ..target import Target

TARGET = Target("loihi2", LOIHI2_SPEC, LOIHI2, compile_loihi2, backends=("emulator", "lava"))

__all__ = ["LOIHI2", "LOIHI2_SPEC", "compile_loihi2", "encode", "loihi_timing", "LavaNetwork", "run_lava",
           "lava_available", "LavaRun", "TARGET"]
