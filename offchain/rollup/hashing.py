"""keccak256, the one hash of the rollup."""

from eth_hash.auto import keccak as _keccak


def keccak(data: bytes) -> bytes:
    """keccak256 of `data` (32 bytes)."""
    return _keccak(data)
