"""How much memory spikec may allocate for one array before refusing.

A hostile or mistaken file can declare a shape (an Input of 10^9 neurons, a dataset of
298 GiB, a run of 10^9 steps) whose allocation would exhaust the machine long before any
other check fires.  Every reader and runtime estimates the bytes a declared shape needs
and calls :func:`check_size` *before* allocating, so the failure is a clean
:class:`~spikec.errors.ResourceLimitError` instead of a MemoryError or the OOM killer.

The limit is read from the environment each time (no global state), so a user who
really has the memory can raise it with ``SPIKEC_MAX_BYTES``.
"""

from __future__ import annotations

import os

from spikec.errors import ResourceLimitError

__all__ = ["ENV_VAR", "DEFAULT_MAX_BYTES", "limit_bytes", "check_size", "format_bytes"]

ENV_VAR = "SPIKEC_MAX_BYTES"
DEFAULT_MAX_BYTES = 4 * 1024**3
_DEFAULT_FIX = f"set {ENV_VAR} to allow more"


def limit_bytes() -> int:
    """The largest single allocation, in bytes, spikec makes on a file's or user's say-so.

    ``SPIKEC_MAX_BYTES`` (a whole number of bytes, e.g. ``8e9`` or ``8000000000``)
    overrides the default of 4 GiB.
    """
    raw = os.environ.get(ENV_VAR)
    if raw is None or raw.strip() == "":
        return DEFAULT_MAX_BYTES
    try:
        value = float(raw.strip())
    except ValueError:
        value = float("nan")
    if not value == value or value <= 0 or value == float("inf"):  # nan, negative, inf
        raise ResourceLimitError(
            f"environment variable {ENV_VAR}={raw!r} is not a positive number of bytes",
            parameter=ENV_VAR,
            fix=f"set {ENV_VAR} to a whole number of bytes such as 8000000000, or unset it "
            f"for the default of {format_bytes(DEFAULT_MAX_BYTES)}",
        )
    return int(value)


def format_bytes(nbytes: float) -> str:
    """``nbytes`` as a short human figure: '8.0 GB', '12.5 MB', '512 bytes'."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if abs(nbytes) >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{int(nbytes)} bytes"


def check_size(
    what: str,
    nbytes: int,
    *,
    node: str | None = None,
    parameter: str | None = None,
    fix: str | None = None,
) -> None:
    """Raise ResourceLimitError if allocating ``nbytes`` for ``what`` exceeds :func:`limit_bytes`.

    ``what`` says in words what would be allocated ("the Input's 10^9 neurons x 8 bytes");
    ``fix`` replaces the default advice of raising ``SPIKEC_MAX_BYTES``.
    """
    limit = limit_bytes()
    if nbytes <= limit:
        return
    raise ResourceLimitError(
        f"{what} would need {format_bytes(nbytes)} of memory, more than spikec allocates at once",
        node=node,
        parameter=parameter,
        limit=f"{ENV_VAR}={limit} bytes, {format_bytes(limit)}",
        fix=fix or _DEFAULT_FIX,
    )
