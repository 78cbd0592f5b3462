"""spikec.targets.loihi2: Intel Loihi 2 through Lava — spec, cost table, lowering to Lava's
fixed-point LIF arithmetic and timing, and the Lava exporter/runner (backend ``lava``)."""

from ..protocol import ONE_STEP_PER_HOP, Target
from .backend import LavaRun, lava_available, lava_backend, run_lava
from .compile import Loihi2Options, compile_loihi2
from .cost import LOIHI2
from .encode import LavaNetwork, encode, loihi_timing
from .spec import LOIHI2_SPEC

TARGET = Target("loihi2", LOIHI2_SPEC, compile_loihi2, costs=LOIHI2, options=Loihi2Options, timing=ONE_STEP_PER_HOP,
                backends={"lava": lava_backend},
                summary="Intel Loihi 2: Lava's bit-accurate fixed-point LIF; runs on the emulator and on Lava")

__all__ = ["LOIHI2", "LOIHI2_SPEC", "Loihi2Options", "compile_loihi2", "encode", "loihi_timing", "LavaNetwork",
           "run_lava", "lava_available", "lava_backend", "LavaRun", "TARGET"]
