"""BLS12-381 signatures for l2kit: signatures in G1, public keys in G2 (see docs/bls.md).

Modules, one job each:
  encoding    EIP-2537 byte encodings of G1/G2 points and the compressed wire form
  hashing     RFC 9380 expand_message_xmd, the signing tag, hash-to-G1
  keys        secret and public keys, random generation, derivation from an L1 wallet signature
  signatures  messages, signing, aggregation, single and aggregate verification
  batch       batched verification with random coefficients, and naming the culprits
  registry    the key history of BLSKeyRegistry rebuilt from its events
All curve and pairing arithmetic is done by supranational blst (pyblst); arkworks
(py_arkworks_bls12381) only converts to and from the uncompressed EIP-2537 layout.
"""

from .batch import BatchItem, find_invalid, verify_batch
from .encoding import (
    g1_from_eip2537,
    g1_to_eip2537,
    g1_words,
    g2_from_eip2537,
    g2_to_eip2537,
    g2_words,
)
from .errors import BLSError
from .hashing import expand_message_xmd, hash_to_g1, signing_dst
from .hint import decompression_hint, hint_words
from .keys import (
    PublicKey,
    SecretKey,
    derivation_typed_data,
    derive_secret_key,
    derive_secret_key_from_account,
    generate_secret_key,
)
from .signatures import (
    Signature,
    aggregate,
    sign,
    signing_message,
    verify,
    verify_aggregate,
    verify_aggregate_encoded,
)

__all__ = [
    "BLSError",
    "BatchItem",
    "PublicKey",
    "SecretKey",
    "Signature",
    "aggregate",
    "decompression_hint",
    "derivation_typed_data",
    "derive_secret_key",
    "derive_secret_key_from_account",
    "expand_message_xmd",
    "find_invalid",
    "g1_from_eip2537",
    "g1_to_eip2537",
    "g1_words",
    "g2_from_eip2537",
    "g2_to_eip2537",
    "g2_words",
    "generate_secret_key",
    "hash_to_g1",
    "hint_words",
    "sign",
    "signing_dst",
    "signing_message",
    "verify",
    "verify_aggregate",
    "verify_aggregate_encoded",
    "verify_batch",
]
