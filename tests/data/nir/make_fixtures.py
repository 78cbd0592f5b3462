"""Write the NIR fixtures of tests/compiler/test_nir_import_export.py with the frameworks' own
exporters (snnTorch 1.0.0, Rockpool 3.1.0, Spyx 1.0.0; nir 1.0.8), so the core test
environment (no torch, no JAX) still reads real files with each writer's quirks::

    python tests/data/nir/make_fixtures.py

(All are written uncompressed, which only makes the files smaller.)

- ``snntorch_scalar_leaky.nir``: ``Leaky(beta=0.9)`` with a scalar beta, as snnTorch's
  exporter builds it before its failing ``infer_types()`` call (0-d parameters, written
  uncompressed because nir 1.0.8 cannot gzip 0-d datasets), and ``.npz`` with snnTorch's own
  output for ``reset_mechanism="zero"`` (NIR's semantics: spikec must match it exactly).
- ``rockpool_cubalif.nir``: ``LIFTorch`` exported by Rockpool (Input ``[1, N]``).
- ``spyx_rlif.nir``: Spyx ``RLIF``, a nested subgraph whose keys repeat the layer name.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import nir
import numpy as np

HERE = Path(__file__).resolve().parent
warnings.simplefilter("ignore")


def snntorch_fixture(x: np.ndarray) -> None:
    import nirtorch
    import snntorch as snn
    import torch
    from snntorch import utils
    from snntorch.export_nir import _extract_snntorch_module

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 5), snn.Leaky(beta=0.9, init_hidden=True, reset_mechanism="zero"),
                              torch.nn.Linear(5, 3),
                              snn.Leaky(beta=0.8, init_hidden=True, output=True, reset_mechanism="zero"))
    for m in (net[0], net[2]):
        m.weight.data *= 3.0
    graph = nirtorch.extract_nir_graph(net, _extract_snntorch_module, torch.as_tensor(x[:, 0]), model_name="snntorch",
                                       ignore_submodules_of=[snn.RLeaky, snn.RSynaptic], ignore_dims=[0])
    nir.write(HERE / "snntorch_scalar_leaky.nir", graph, compression=None)
    utils.reset(net)
    with torch.no_grad():
        out = np.stack([net(torch.as_tensor(x[:, t]))[0].numpy() for t in range(x.shape[1])], 1)
    np.savez_compressed(HERE / "snntorch_scalar_leaky.npz", input=x.astype(np.uint8), output=out.astype(np.uint8))


def rockpool_fixture() -> None:
    import torch
    from rockpool.nn.combinators import Sequential
    from rockpool.nn.modules import LIFTorch, LinearTorch
    from rockpool.nn.modules.torch.nir import to_nir

    torch.manual_seed(0)
    net = Sequential(LinearTorch((6, 5), has_bias=True), LIFTorch(5, tau_mem=0.02, tau_syn=0.005, dt=1e-3))
    nir.write(HERE / "rockpool_cubalif.nir", to_nir(net), compression=None)


def spyx_fixture() -> None:
    import spyx.nn as snn
    from flax import nnx
    from spyx.nir import to_nir

    rngs = nnx.Rngs(0)
    net = snn.Sequential(nnx.Linear(6, 4, rngs=rngs), snn.RLIF((4,), beta=0.9, rngs=rngs),
                         nnx.Linear(4, 3, rngs=rngs), snn.LIF((3,), beta=0.8, rngs=rngs))
    nir.write(HERE / "spyx_rlif.nir", to_nir(net, {"input": np.array([6])}, {"output": np.array([3])}, dt=1),
              compression=None)


if __name__ == "__main__":
    spikes = (np.random.default_rng(0).random((2, 30, 6)) < 0.3).astype(np.float32)
    snntorch_fixture(spikes)
    rockpool_fixture()
    spyx_fixture()
    for f in sorted(HERE.glob("*.n*")):
        print(f"{f.name}: {f.stat().st_size} bytes")
