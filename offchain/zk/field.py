# SPDX-License-Identifier: GPL-3.0-or-later
"""Constants of the BN254 scalar field the circuits work in."""

from __future__ import annotations

SNARK_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617
"""The BN254 scalar field modulus r: every circuit signal and public input is below it."""

BALANCE_BITS = 192
"""L2 balances are range-checked to this many bits in the circuit."""

AMOUNT_BYTES = 16
"""Amounts in the public data: 128-bit, like the bridge's deposit limit."""

HASH_MASK = (1 << 253) - 1
"""The public-data hash is SHA-256 with the top three bits cleared, so it fits the field."""
