# SPDX-License-Identifier: GPL-3.0-or-later
"""l2kit zk rollup off-chain side (GPL-3.0: uses groth16py, circom and circomlib).

Optional: install the zk extra (groth16py, light-poseidon) to import it."""
