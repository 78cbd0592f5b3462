"""spikec.hardware: the types every layer reads a chip through, at the bottom of the stack.

:class:`Sourced` is a number with the publication it comes from (limits and cost constants
alike); :class:`HardwareSpec` is a chip's limits; :mod:`.arithmetic` names the fixed-point
register modes a chip can have.  Nothing here imports the rest of spikec but ``errors``.
"""

from .arithmetic import OVERFLOWS, ROUNDINGS
from .sourced import Sourced
from .spec import HardwareSpec

__all__ = ["Sourced", "HardwareSpec", "ROUNDINGS", "OVERFLOWS"]
