"""spikec.compiler.passes: pure Graph -> Graph passes (fold_batchnorm, quantize, map_delays, partition)."""
