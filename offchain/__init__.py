"""l2kit off-chain package: chain access, rollup operator and validator, channel nodes."""
