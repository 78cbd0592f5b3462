"""spikec.targets: one subpackage per chip: hardware spec, lowering, cost model, exporter."""
