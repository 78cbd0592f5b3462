"""The same study as Ray tasks on a local Ray cluster: a head and a worker node started here the
way the README says (``ray start --head``, then ``ray start --address``), one CPU each, so two
worker processes.  It must find the same Pareto front as the in-process run for the same seed."""

from __future__ import annotations

import socket

import pytest
from spikec.errors import BackendError
from spikec.explore import RayRunner, explore
from spikec.explore.cluster import local_ray_cluster


@pytest.fixture(scope="module")
def cluster(require):
    require("ray")
    with local_ray_cluster(workers=2, cpus=1) as address:
        yield address


def test_ray_cluster_finds_the_same_front(cluster, baseline, space, tmp_path):
    runner = RayRunner(cluster)
    try:
        assert "2 node(s), 2 CPUs" in runner.title
        result = explore("default", space, runner, journal=tmp_path / "ray.journal")
    finally:
        runner.close()
    assert result.front_key() == baseline.front_key()
    assert [r.options for r in result.rows] == [r.options for r in baseline.rows]
    assert len({r.host for r in result.rows}) >= 2          # both workers ran trials


def test_unreachable_cluster_is_a_backend_error(require):
    require("ray")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]          # bound, not listening: nothing answers there
        with pytest.raises(BackendError, match="cannot reach a Ray cluster"):
            RayRunner(f"127.0.0.1:{port}")
