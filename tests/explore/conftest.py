"""Shared by the exploration tests: a small two-target study (3 knobs over 2 targets) and the
front it finds in this process, which every other way of running it must reproduce."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
from spikec.explore import InProcess, explore, parse_space

SPACE = {
    "study": {"name": "t", "trials": 6, "batch": 3, "seed": 3},
    "data": {"samples": 40, "calibration": 10},
    "targets": {
        "spinnaker2": {"weight_bits": {"low": 3, "high": 16}, "neurons_per_pe": {"low": 16, "high": 256, "log": True},
                       "tick_us": {"low": 10.0, "high": 1000.0, "log": True}},
        "loihi2": {"weight_bits": {"low": 2, "high": 8}},
    },
}


def needs(module: str) -> None:
    """Skip without ``module`` on a developer machine; under CI=true (where `make test` installs the
    explore extra) its absence is a failure."""
    try:
        __import__(module)
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{module} is missing under CI=true: the explore extra must be installed")
        pytest.skip(f"{module} is not installed (pip install 'spikec[explore]')")


@pytest.fixture(scope="session")
def require():
    """``require("ray")``: see :func:`needs`."""
    return needs


@pytest.fixture
def raw_space():
    """The study's space as TOML tables, a fresh copy to edit."""
    return copy.deepcopy(SPACE)


@pytest.fixture(scope="session")
def space():
    return parse_space(SPACE)


@pytest.fixture(scope="session")
def baseline(space, tmp_path_factory):
    needs("optuna")
    journal: Path = tmp_path_factory.mktemp("baseline") / "study.journal"
    return explore("default", space, InProcess(), journal=journal)
