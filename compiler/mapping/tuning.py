"""Size thresholds and stopping rules of the mapping stages.

They live in one module, read as ``tuning.NAME`` at call time (never imported by name), so
that a test can lower one with ``monkeypatch.setattr(tuning, NAME, ...)`` and every stage
sees it: that is how the block graph and the no-dense-matrix paths are tested on small nets.
"""

# Above this many distinct synapse pairs METIS gets a graph of unit blocks, not of units: on a
# 2-core machine METIS takes ~5 s per 10M pairs and several times their size in memory.
_DIRECT_PAIRS = 4_000_000
# Above this many cores the dense core x core matrices of the placement (8 bytes x cores^2,
# three of them) are not built.
_DENSE_CORES = 4096
# Cells of one dense chunk when block-to-block weights are summed (bincount, then top-k per row).
_CHUNK_CELLS = 1 << 24
# Unit moves evaluate every (unit, core) and (synapse pair, core) cell per round: above this
# many cells they are skipped (a 10^6-unit net on 10^3 cores would need 10^11).
_REFINE_CELLS = 60_000_000
# Unit moves stop when their last three rounds gained less than this share of the traffic,
# core swaps when their last sweep did.
_STALL = 2e-3
