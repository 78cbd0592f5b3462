"""spikec.targets.loihi: Intel Loihi chips (cost tables now; lowering and Lava export to come)."""

from .costs import LOIHI1
from .spec import LOIHI1_SPEC

__all__ = ["LOIHI1", "LOIHI1_SPEC"]
