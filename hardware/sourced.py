"""A hardware number and where it was published: one type for a chip's limits (neurons per
core, weight bits) and its cost constants (joules per synaptic op, watts of static power)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import SpecError

__all__ = ["Sourced"]


@dataclass(frozen=True)
class Sourced:
    """``value`` in SI units (J, s, W) or a count, ``None`` when there is no such limit or no
    published figure (``source`` says which); never negative, never NaN or infinite."""

    value: int | float | None
    source: str

    def __post_init__(self) -> None:
        v = self.value
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0):
            raise SpecError(f"value {v!r} must be a finite number >= 0 or None", parameter="value",
                            fix=f"check the figure taken from: {self.source or '(no source)'}")
        if not self.source:
            raise SpecError(f"value {v!r} has no source", parameter="source",
                            fix="every hardware number needs the publication (or 'no limit') it comes from")

    @property
    def known(self) -> bool:
        return self.value is not None
