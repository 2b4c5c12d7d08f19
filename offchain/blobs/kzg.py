"""KZG commitments, versioned hashes and proofs for blobs, through ckzg (docs/blobs.md, "KZG").

The evaluation domain: a blob is the polynomial p with p(z_i) = element i, where
z_i = w ** bitrev12(i), w = 7 ** ((r - 1) / 4096) mod r is the primitive 4096th root of unity of
the BLS12-381 scalar field and bitrev12 reverses the 12 bits of i (EIP-4844's bit-reversed order).
Opening element i for a dispute is a point-evaluation proof at z_i with y = element i.

The trusted setup is the mainnet KZG ceremony output shipped inside eth-account; its file is
checked against a pinned SHA-256 before ckzg loads it (nothing is downloaded).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import ckzg

from .encoding import BLS_MODULUS, BYTES_PER_BLOB, FIELD_ELEMENTS_PER_BLOB, element
from .errors import KzgError

VERSIONED_HASH_VERSION_KZG = 0x01
# SHA-256 of the mainnet ceremony file in the format ckzg 2 loads (G1 Lagrange, G2, G1 monomial).
MAINNET_SETUP_SHA256 = "d39b9f2d047cc9dca2de58f264b6a09448ccd34db967881a6713eacacf0f26b7"
CELLS_PER_EXT_BLOB = 128
PRIMITIVE_ROOT = 7
ROOT_OF_UNITY = pow(PRIMITIVE_ROOT, (BLS_MODULUS - 1) // FIELD_ELEMENTS_PER_BLOB, BLS_MODULUS)


def default_setup_path() -> Path:
    """The mainnet trusted setup file eth-account ships (the one its blob signing uses)."""
    pkg = resources.files("eth_account.typed_transactions.blob_transactions")
    return Path(str(pkg / "kzg_trusted_setup.txt"))


@functools.cache
def load_setup(path: Path | None = None) -> object:
    """Load (once per path and process) the trusted setup, refusing a file that is not mainnet's."""
    path = path or default_setup_path()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != MAINNET_SETUP_SHA256:
        raise KzgError(
            f"{path} is not the mainnet KZG trusted setup (sha256 {digest}): reinstall "
            "eth-account or pass the path of the ceremony file"
        )
    return ckzg.load_trusted_setup(str(path), 0)


def bit_reverse(i: int, bits: int = 12) -> int:
    """Reverse the low ``bits`` bits of ``i`` (EIP-4844's bit-reversal permutation)."""
    return int(format(i, f"0{bits}b")[::-1], 2)


def evaluation_point(index: int) -> int:
    """z for field element ``index`` of a blob: w ** bitrev12(index) mod r."""
    if not 0 <= index < FIELD_ELEMENTS_PER_BLOB:
        raise KzgError(f"element index {index} is outside 0..{FIELD_ELEMENTS_PER_BLOB - 1}")
    return pow(ROOT_OF_UNITY, bit_reverse(index), BLS_MODULUS)


def _checked_blob(blob: bytes) -> bytes:
    if len(blob) != BYTES_PER_BLOB:
        raise KzgError(f"a blob is {BYTES_PER_BLOB:,} bytes, got {len(blob):,}")
    return bytes(blob)


def commitment(blob: bytes) -> bytes:
    """The 48-byte KZG commitment of ``blob``."""
    try:
        return bytes(ckzg.blob_to_kzg_commitment(_checked_blob(blob), load_setup()))
    except RuntimeError as exc:  # ckzg: an element >= the modulus
        raise KzgError(f"blob refused by ckzg ({exc}): every element must be < r") from exc


def versioned_hash(kzg_commitment: bytes) -> bytes:
    """EIP-4844 versioned hash: 0x01 || sha256(commitment)[1:]."""
    if len(kzg_commitment) != 48:
        raise KzgError(f"a KZG commitment is 48 bytes, got {len(kzg_commitment)}")
    return bytes([VERSIONED_HASH_VERSION_KZG]) + hashlib.sha256(kzg_commitment).digest()[1:]


def blob_versioned_hash(blob: bytes) -> bytes:
    """The versioned hash the chain records for ``blob`` (commitment recomputed here)."""
    return versioned_hash(commitment(blob))


def blob_proof(blob: bytes, kzg_commitment: bytes) -> bytes:
    """The 48-byte blob proof of EIP-4844 (a version-0 network wrapper carries one per blob)."""
    return bytes(ckzg.compute_blob_kzg_proof(_checked_blob(blob), kzg_commitment, load_setup()))


def verify_blob_proof(blob: bytes, kzg_commitment: bytes, proof: bytes) -> bool:
    """Check a blob proof against its commitment."""
    try:
        return bool(
            ckzg.verify_blob_kzg_proof(_checked_blob(blob), kzg_commitment, proof, load_setup())
        )
    except RuntimeError:
        return False


@dataclass(frozen=True)
class ElementOpening:
    """What the point-evaluation precompile 0x0A takes to prove ``blob[index] == value``."""

    versioned_hash: bytes  # 32
    index: int  # 0..4095
    z: bytes  # 32, big-endian w ** bitrev12(index)
    value: bytes  # 32, big-endian element (= y)
    commitment: bytes  # 48
    proof: bytes  # 48

    def precompile_input(self) -> bytes:
        """The 192-byte input of 0x0A: versioned_hash || z || y || commitment || proof."""
        return self.versioned_hash + self.z + self.value + self.commitment + self.proof


def open_element(blob: bytes, index: int) -> ElementOpening:
    """A point-evaluation proof that element ``index`` of ``blob`` is what the blob holds."""
    blob = _checked_blob(blob)
    z = evaluation_point(index).to_bytes(32, "big")
    com = commitment(blob)
    proof, y = ckzg.compute_kzg_proof(blob, z, load_setup())
    if bytes(y) != element(blob, index):  # the domain ordering is wrong if this ever fires
        raise KzgError(f"ckzg evaluated element {index} to {bytes(y).hex()}, not the element")
    return ElementOpening(versioned_hash(com), index, z, bytes(y), com, bytes(proof))


def verify_opening(opening: ElementOpening) -> bool:
    """Check an opening as the precompile does (versioned hash, then the KZG proof)."""
    if versioned_hash(opening.commitment) != opening.versioned_hash:
        return False
    try:
        return bool(
            ckzg.verify_kzg_proof(
                opening.commitment, opening.z, opening.value, opening.proof, load_setup()
            )
        )
    except RuntimeError:
        return False


def cell_proofs(blob: bytes) -> list[bytes]:
    """The 128 EIP-7594 cell proofs of ``blob`` (an Osaka version-1 network wrapper)."""
    _cells, proofs = ckzg.compute_cells_and_kzg_proofs(_checked_blob(blob), load_setup())
    return [bytes(p) for p in proofs]


def verify_cell_proofs(blob: bytes, kzg_commitment: bytes, proofs: list[bytes]) -> bool:
    """Check the 128 cell proofs of one blob against its commitment."""
    if len(proofs) != CELLS_PER_EXT_BLOB:
        return False
    cells, _ = ckzg.compute_cells_and_kzg_proofs(_checked_blob(blob), load_setup())
    try:
        return bool(
            ckzg.verify_cell_kzg_proof_batch(
                [kzg_commitment] * CELLS_PER_EXT_BLOB,
                list(range(CELLS_PER_EXT_BLOB)),
                cells,
                proofs,
                load_setup(),
            )
        )
    except RuntimeError:
        return False
