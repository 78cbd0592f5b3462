"""HardwareSpec: every limit is a whole number (or None) with a source."""

from __future__ import annotations

import pytest
from spikec.errors import SpecError
from spikec.hardware import HardwareSpec, Sourced


def test_limits_need_sources_and_whole_numbers() -> None:
    assert Sourced(None, "no limit").value is None
    assert Sourced(1024, "Davies 2018").value == 1024
    for bad in (-1, float("nan"), float("inf"), "8", True):
        with pytest.raises(SpecError):
            Sourced(bad, "x")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="no source"):
        Sourced(8, "")
    assert Sourced(2.5e-12, "a cost constant may be fractional").value == 2.5e-12
    with pytest.raises(SpecError, match="max_delay"):
        HardwareSpec("toy", max_delay=Sourced(2.5, "x"))  # a limit may not


def test_spec_reports_values_and_sources() -> None:
    spec = HardwareSpec("toy", max_delay=Sourced(15, "toy manual"), neurons_per_core=Sourced(256, "toy manual"))
    assert spec.value("max_delay") == 15 and spec.value("weight_bits") is None
    assert spec.sources()["max_delay"] == "toy manual" and spec.sources()["weight_bits"] == "no limit"
    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]
