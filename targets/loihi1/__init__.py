"""spikec.targets.loihi: Intel Loihi (1st generation): spec and cost table; it compiles through
the shared passes (no Lava export: Lava models Loihi 2, see spikec.targets.loihi2)."""

from functools import partial

from ..target import Target, compile_timed
from .costs import LOIHI1
from .spec import LOIHI1_SPEC

TARGET = Target("loihi1", LOIHI1_SPEC, LOIHI1, partial(compile_timed, spec=LOIHI1_SPEC, target="loihi1"))

__all__ = ["LOIHI1", "LOIHI1_SPEC", "TARGET"]
