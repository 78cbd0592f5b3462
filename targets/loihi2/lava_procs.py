"""A Lava process of spikec's own (imported only where lava-nc is installed): ``SpikeLog``
keeps what arrives on its port, one column per step, and writes it to an ``.npy`` file at the
last step.  Lava's ``io.sink.RingBuffer`` does the same, but reading its buffer back with
``Var.get()`` moves one element per message (48 s for the 360-sample digits batch; this takes
milliseconds).
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

__all__ = ["SpikeLog"]


class SpikeLog(AbstractProcess):
    """Records ``steps`` steps of a ``shape`` port into ``path`` (int8, shape + (steps,))."""

    def __init__(self, *, shape: tuple[int, ...], steps: int, path: str) -> None:
        super().__init__(shape=shape, steps=steps, path=path)
        self.a_in = InPort(shape=shape)


@implements(proc=SpikeLog, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySpikeLogModel(PyLoihiProcessModel):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)

    def __init__(self, proc_params: dict) -> None:
        super().__init__(proc_params)
        self.buffer = np.zeros(tuple(proc_params["shape"]) + (proc_params["steps"],), np.int8)

    def run_spk(self) -> None:
        t = self.time_step - 1
        data = self.a_in.recv()
        if t < self.buffer.shape[-1]:
            self.buffer[..., t] = data
        if t == self.buffer.shape[-1] - 1:
            np.save(self.proc_params["path"], self.buffer)
