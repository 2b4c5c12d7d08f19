# SPDX-License-Identifier: GPL-3.0-or-later
"""Poseidon over BN254, circomlib-compatible (through the `light-poseidon` Rust bindings)."""

from __future__ import annotations

from collections.abc import Sequence

import light_poseidon_python as _lp

from offchain.zk.field import SNARK_FIELD


def poseidon(inputs: Sequence[int]) -> int:
    """circomlib `Poseidon(len(inputs))` of field elements (1 to 12 inputs)."""
    if not 1 <= len(inputs) <= 12:
        raise ValueError(f"poseidon takes 1 to 12 inputs, got {len(inputs)}")
    for x in inputs:
        if not 0 <= x < SNARK_FIELD:
            raise ValueError(f"poseidon input {x} is not a field element (0 <= x < r)")
    return int(_lp.poseidon_hash_bytes([x.to_bytes(32, "big") for x in inputs]), 16)
