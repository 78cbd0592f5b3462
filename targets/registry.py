"""Finding targets: every package ``spikec/targets/<name>/`` whose ``TARGET`` is a
:class:`~.protocol.Target`, plus third-party targets registered under the ``spikec.targets``
entry point (``[project.entry-points."spikec.targets"] mychip = "mypkg:TARGET"``).

A folder's name is its target's name, so listing names imports nothing; a target is imported
when it is first asked for.  Folders whose name starts with ``_`` are not targets.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from ..errors import SpecError, SpikecError, UnsupportedError
from .protocol import Target

__all__ = ["ENTRY_POINT_GROUP", "target_names", "get_target", "all_targets"]

ENTRY_POINT_GROUP = "spikec.targets"


def _builtin() -> dict[str, str]:
    from .. import targets

    return {m.name: f"{targets.__name__}.{m.name}:TARGET"
            for m in pkgutil.iter_modules(targets.__path__) if m.ispkg and not m.name.startswith("_")}


def _plugins() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def target_names() -> list[str]:
    """Every target's name, built in or installed, sorted."""
    return sorted(set(_builtin()) | set(_plugins()))


def get_target(name: str) -> Target:
    """The target called ``name``; an unknown name is refused with the list of known ones."""
    return _load(name)


def all_targets(errors: list[SpikecError] | None = None) -> list[Target]:
    """Every target, loaded, in name order.  With ``errors``, a target that fails to load (a
    broken plug-in) is left out and its error appended there instead of raised."""
    found = []
    for name in target_names():
        try:
            found.append(get_target(name))
        except SpikecError as exc:
            if errors is None:
                raise
            errors.append(exc)
    return found


@lru_cache(maxsize=None)
def _load(name: str) -> Target:
    builtin = _builtin()
    if name in builtin:
        module, attr = builtin[name].split(":")
        where = f"package {module}"
        obj = getattr(importlib.import_module(module), attr, None)
    else:
        plugins = _plugins()
        if name not in plugins:
            raise UnsupportedError(f"no target named {name!r}", parameter="target",
                                   fix=f"use one of {target_names()} (`spikec targets` lists them)")
        where = f"entry point {ENTRY_POINT_GROUP}:{name} = {plugins[name].value}"
        try:
            obj = plugins[name].load()
        except Exception as exc:  # a broken plug-in names itself instead of crashing the CLI
            raise SpecError(f"target {name!r} ({where}) failed to import: {type(exc).__name__}: {exc}",
                            parameter="target", fix="fix or uninstall the package that provides it") from None
    if not isinstance(obj, Target):
        raise SpecError(f"{where} does not define TARGET as a spikec.targets.Target (found {type(obj).__name__})",
                        parameter="TARGET", fix="see README, 'Adding a target'")
    if obj.name != name:
        raise SpecError(f"{where} defines target {obj.name!r} under the name {name!r}", parameter="name",
                        fix="name the folder (or the entry point) after the target")
    return obj
