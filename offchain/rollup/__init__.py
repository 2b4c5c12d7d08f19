"""l2kit optimistic rollup, off-chain side: state, codec, signing, execution, batches, validator."""
