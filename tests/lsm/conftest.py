"""Shared data for the LSM tests: one small slice of the digits events, generated once."""

from __future__ import annotations

import pytest
from spikec.lsm import EventSet, digits_events


@pytest.fixture(scope="session")
def digits() -> EventSet:
    """The first 400 digits as saccade events (30 steps, seed 0)."""
    return digits_events(400)
