"""A Ray cluster on this machine, started the way the README starts one on many: a head
(``ray start --head``) and worker nodes joining it (``ray start --address``).  For trying the
``--ray`` path, the tests and the benchmark; a real cluster is started by hand on each machine.

Each node runs ``ray start --block`` in a process group of its own, so stopping the cluster stops
exactly the processes it started (``ray stop`` would stop every Ray process of the machine)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import BackendError

__all__ = ["local_ray_cluster"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    ray = Path(sys.executable).parent / "ray"
    return subprocess.Popen([str(ray), "start", "--block", *args], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(nodes: list[subprocess.Popen]) -> None:
    # SIGTERM lets every node's daemons (each node's own process group) shut down; the blocking
    # `ray start` itself ignores it, so after a grace period the groups get a SIGKILL.
    def signal_all(sig: int) -> None:
        for node in nodes:
            try:
                os.killpg(node.pid, sig)
            except ProcessLookupError:
                pass

    signal_all(signal.SIGTERM)
    time.sleep(1.0)
    signal_all(signal.SIGKILL)
    for node in nodes:
        node.wait()


@contextmanager
def local_ray_cluster(workers: int = 2, cpus: int = 1, timeout: float = 90.0) -> Iterator[str]:
    """A head plus ``workers - 1`` worker nodes on this machine, ``cpus`` CPUs each (so
    ``workers * cpus`` trials at once); yields the address to pass to ``--ray``."""
    try:
        import ray
    except ImportError:
        raise BackendError("a Ray cluster needs Ray", fix='pip install "spikec[explore]"') from None
    if workers < 1 or cpus < 1:
        raise BackendError(f"workers={workers}, cpus={cpus}", fix="at least one node with one CPU")
    port = _free_port()
    address = f"127.0.0.1:{port}"
    # Ray's socket paths must fit in 107 bytes: a short temp dir.
    tmp = tempfile.mkdtemp(prefix="/tmp/spkray")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    common = [f"--num-cpus={cpus}", "--node-ip-address=127.0.0.1"]
    nodes = [_start(["--head", f"--port={port}", "--include-dashboard=false", "--disable-usage-stats",
                     f"--temp-dir={tmp}", *common], env)]
    # Worker nodes wait for the head themselves: all start at once.
    nodes += [_start([f"--address={address}", *common], env) for _ in range(workers - 1)]
    try:
        _wait_for(ray, address, workers * cpus, time.monotonic() + timeout)
        yield address
    finally:
        _stop(nodes)


def _wait_for(ray: object, address: str, cpus: int, deadline: float) -> None:
    seen = 0.0
    while time.monotonic() < deadline:
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False,  # type: ignore[attr-defined]
                     configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError):
            time.sleep(0.5)
            continue
        try:
            while time.monotonic() < deadline:
                seen = ray.cluster_resources().get("CPU", 0)  # type: ignore[attr-defined]
                if seen >= cpus:
                    return
                time.sleep(0.25)
        finally:
            ray.shutdown()  # type: ignore[attr-defined]
    raise BackendError(f"the local Ray cluster at {address} did not come up with {cpus} CPUs (saw {seen:g})",
                       fix="see the nodes' logs under /tmp/spkray*")
