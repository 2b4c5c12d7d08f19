"""The validator service: follow the optimistic rollup from L1 data alone, keep verified
checkpoints, prove wrong batches, never go quiet (service.py, watch.py, fraud.py, follow.py)."""
