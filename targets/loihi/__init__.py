"""spikec.targets.loihi: Intel Loihi chips (cost tables now; lowering and Lava export to come)."""

from .costs import LOIHI1

__all__ = ["LOIHI1"]
