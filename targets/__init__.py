"""spikec.targets: one package per chip, each defining ``TARGET`` (a :class:`Target`).

:mod:`.protocol` says what a target is, :mod:`.options` how it declares its co-design knobs,
:mod:`.pipeline` the compile flow targets share, and :mod:`.registry` how they are found (the
folders here, plus the ``spikec.targets`` entry point for packages of other people).
"""

from .options import OptionInfo, Options, option
from .protocol import ONE_STEP_PER_HOP, Backend, BackendRun, Target, Timing, emulator
from .registry import ENTRY_POINT_GROUP, all_targets, get_target, target_names

__all__ = ["Target", "Timing", "ONE_STEP_PER_HOP", "Backend", "BackendRun", "emulator", "Options", "OptionInfo",
           "option", "get_target", "target_names", "all_targets", "ENTRY_POINT_GROUP"]
