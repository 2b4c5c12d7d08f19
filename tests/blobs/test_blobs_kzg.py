"""KZG glue: versioned hashes, the bit-reversed evaluation domain, openings and cell proofs."""

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import ckzg
import pytest

from offchain.blobs import KzgError, encode, kzg
from offchain.blobs.encoding import BLS_MODULUS, BYTES_PER_BLOB

VECTORS = json.loads((Path(__file__).parent / "vectors.json").read_text())
BLOB = encode(bytes(range(256)) * 40)[0]


def test_setup_file_is_the_pinned_mainnet_ceremony():
    digest = hashlib.sha256(kzg.default_setup_path().read_bytes()).hexdigest()
    assert digest == kzg.MAINNET_SETUP_SHA256


def test_tampered_setup_file_is_refused(tmp_path):
    bad = tmp_path / "setup.txt"
    bad.write_bytes(kzg.default_setup_path().read_bytes().replace(b"a", b"b", 1))
    with pytest.raises(KzgError, match="not the mainnet"):
        kzg.load_setup(bad)


def test_versioned_hash_is_version_byte_then_sha256_tail():
    com = kzg.commitment(BLOB)
    assert kzg.versioned_hash(com) == b"\x01" + hashlib.sha256(com).digest()[1:]


@pytest.mark.parametrize("v", VECTORS["encoding"], ids=lambda v: v["name"])
def test_versioned_hashes_match_vectors(v):
    from test_blobs_encoding import vector_blobs

    assert ["0x" + kzg.blob_versioned_hash(b).hex() for b in vector_blobs(v)] == v[
        "versioned_hashes"
    ]


def test_root_of_unity_has_order_exactly_4096():
    w = kzg.ROOT_OF_UNITY
    assert pow(w, 4096, BLS_MODULUS) == 1
    assert pow(w, 2048, BLS_MODULUS) == BLS_MODULUS - 1


def test_bit_reverse_examples():
    assert [kzg.bit_reverse(i) for i in (0, 1, 2, 3, 2048, 4095)] == [0, 2048, 1024, 3072, 1, 4095]


@pytest.mark.parametrize("index", [0, 1, 2, 3, 5, 100, 2047, 2048, 4094, 4095])
def test_ckzg_evaluates_the_blob_to_element_i_at_the_bit_reversed_point(index):
    z = kzg.evaluation_point(index).to_bytes(32, "big")
    proof, y = ckzg.compute_kzg_proof(BLOB, z, kzg.load_setup())
    assert bytes(y) == BLOB[32 * index : 32 * index + 32]
    assert ckzg.verify_kzg_proof(kzg.commitment(BLOB), z, y, proof, kzg.load_setup())


def test_natural_order_point_is_not_element_i():
    """Guards the ordering: w**i (no bit reversal) evaluates element 1 to something else."""
    z = pow(kzg.ROOT_OF_UNITY, 1, BLS_MODULUS).to_bytes(32, "big")
    _, y = ckzg.compute_kzg_proof(BLOB, z, kzg.load_setup())
    assert bytes(y) != BLOB[32:64]


def test_opening_verifies_and_every_forged_field_fails():
    opening = kzg.open_element(BLOB, 7)
    assert kzg.verify_opening(opening)
    other = kzg.open_element(BLOB, 8)
    assert not kzg.verify_opening(replace(opening, value=other.value))
    assert not kzg.verify_opening(replace(opening, z=other.z))
    assert not kzg.verify_opening(replace(opening, proof=other.proof))
    other_blob = kzg.open_element(encode(b"other")[0], 7)
    assert not kzg.verify_opening(replace(opening, commitment=other_blob.commitment))


@pytest.mark.parametrize("o", VECTORS["openings"], ids=lambda o: f"{o['payload']}-{o['index']}")
def test_openings_match_vectors(o):
    from test_blobs_encoding import vector_blobs

    v = next(v for v in VECTORS["encoding"] if v["name"] == o["payload"])
    opening = kzg.open_element(vector_blobs(v)[o["blob"]], o["index"])
    assert "0x" + opening.precompile_input().hex() == (
        o["versioned_hash"] + o["z"][2:] + o["y"][2:] + o["commitment"][2:] + o["proof"][2:]
    )


def test_blob_proof_round_trip():
    com = kzg.commitment(BLOB)
    proof = kzg.blob_proof(BLOB, com)
    assert kzg.verify_blob_proof(BLOB, com, proof)
    assert not kzg.verify_blob_proof(BLOB, kzg.commitment(encode(b"x")[0]), proof)


def test_cell_proofs_verify_and_wrong_commitment_fails():
    proofs = kzg.cell_proofs(BLOB)
    assert len(proofs) == 128
    assert kzg.verify_cell_proofs(BLOB, kzg.commitment(BLOB), proofs)
    assert not kzg.verify_cell_proofs(BLOB, kzg.commitment(encode(b"x")[0]), proofs)


def test_non_canonical_element_is_refused_with_a_kzg_error():
    with pytest.raises(KzgError, match="< r"):
        kzg.commitment(b"\xff" * BYTES_PER_BLOB)


@pytest.mark.parametrize("index", [-1, 4096])
def test_element_index_out_of_range_is_refused(index):
    with pytest.raises(KzgError, match="outside"):
        kzg.evaluation_point(index)
