"""EIP-4844 blobs for l2kit: encoding, KZG, sending and reading back (see docs/blobs.md).

Modules, one job each:
  encoding  bytes <-> blobs (31 bytes per field element, length header, strict total decoding)
  kzg       commitments, versioned hashes, blob/cell proofs, point-evaluation openings (ckzg)
  cost      the pure calldata-or-blobs choice at given fees (EIP-7623 floor included)
  tx        build, sign, rewrap (EIP-7594 cell proofs) and send type-3 transactions
  beacon    read blobs by versioned hash from a beacon API, recomputing every hash
"""

from .beacon import BeaconReader, BeaconSettings
from .cost import ModeCosts, PostingMode, choose_mode
from .encoding import blobs_needed, decode, element_position, encode
from .errors import (
    BeaconError,
    BeaconUnavailable,
    BlobDecodeError,
    BlobError,
    BlobMismatch,
    BlobMissing,
    KzgError,
)
from .kzg import ElementOpening, blob_versioned_hash, open_element, verify_opening

__all__ = [
    "BeaconError",
    "BeaconReader",
    "BeaconSettings",
    "BeaconUnavailable",
    "BlobDecodeError",
    "BlobError",
    "BlobMismatch",
    "BlobMissing",
    "ElementOpening",
    "KzgError",
    "ModeCosts",
    "PostingMode",
    "blob_versioned_hash",
    "blobs_needed",
    "choose_mode",
    "decode",
    "element_position",
    "encode",
    "open_element",
    "verify_opening",
]
