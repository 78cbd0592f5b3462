"""HardwareSpec: every limit is a whole number (or None) with a source."""

from __future__ import annotations

import pytest

from spikec.errors import GraphValidationError
from spikec.targets.spec import HardwareSpec, Limit


def test_limits_need_sources_and_whole_numbers() -> None:
    assert Limit(None, "no limit").value is None
    assert Limit(1024, "Davies 2018").value == 1024
    for bad in (-1, 2.5, "8", True):
        with pytest.raises(GraphValidationError):
            Limit(bad, "x")  # type: ignore[arg-type]
    with pytest.raises(GraphValidationError):
        Limit(8, "")


def test_spec_reports_values_and_sources() -> None:
    spec = HardwareSpec("toy", max_delay=Limit(15, "toy manual"), neurons_per_core=Limit(256, "toy manual"))
    assert spec.value("max_delay") == 15 and spec.value("weight_bits") is None
    assert spec.sources()["max_delay"] == "toy manual" and spec.sources()["weight_bits"] == "no limit"
    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]
