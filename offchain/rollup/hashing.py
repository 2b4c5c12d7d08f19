"""keccak256, the one hash of the rollup."""

try:  # safe-pysha3 (a pinned dependency): about 5x faster per call than eth_hash's dispatch
    from sha3 import keccak_256 as _keccak_256  # type: ignore[import-untyped]

    def keccak(data: bytes) -> bytes:
        """keccak256 of `data` (32 bytes)."""
        return _keccak_256(data).digest()

except ImportError:  # pragma: no cover - the same function through eth_hash's backend
    from eth_hash.auto import keccak as _keccak

    def keccak(data: bytes) -> bytes:
        """keccak256 of `data` (32 bytes)."""
        return _keccak(data)
