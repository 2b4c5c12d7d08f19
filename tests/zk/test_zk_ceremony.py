# SPDX-License-Identifier: GPL-3.0-or-later
"""Keys from a multi-party ceremony, end to end: snarkjs (npm 0.7.6) runs the ceremony of
docs/zk.md ("Keys from a multi-party setup"), `offchain.zk.circuit.ceremony_keys` imports the
final `.zkey`, groth16py proves with it, and the proof verifies under groth16py, the deployed
Groth16Verifier.sol, py_ecc and snarkjs, while a key from another ceremony refuses it.

The circuit is the project's account-leaf hash (`LeafHash()` of circuits/common.circom, 321
constraints: Poseidon(5), which every project circuit uses), so the powers of tau is 2^9 and
the whole ceremony (with a second, incomplete phase 2 for the wrong-key checks) takes 45-65 s
here at load 5 (about 50 s of CPU), so the module is marked slow. The exit circuit (6,167
constraints, 2^13) took about 8 min on the shared machine (`powersoftau prepare phase2` alone
330 s, load about 3), too slow for the suite; the commands are the same for any circuit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from zk_ceremony import Phase2, phase1, phase2, snarkjs, snarkjs_verify
from zk_circom2 import compile_circom2, npm_tools_missing
from zk_helpers import ALICE_KEY
from zk_pairing_verifier import verify as py_ecc_verify

from offchain.zk.circuit import CircuitKeys, CircuitSpec, ceremony_keys, verifier_args
from offchain.zk.field import SNARK_FIELD
from offchain.zk.prover import Groth16Prover, prove_checked
from offchain.zk.state import Account

pytestmark = [
    pytest.mark.skipif(npm_tools_missing() is not None, reason=str(npm_tools_missing())),
    pytest.mark.slow,  # the ceremony: 45-65 s at load 5 on the shared 2-core machine
]

LEAF_HASH = CircuitSpec(
    name="leaf-hash",
    file="common.circom",
    template_call="LeafHash()",
    public=("token", "balance"),
)
"""Public signals: the output (the leaf) first, then token and balance."""
POWER = 9  # 2^9 = 512 > 321 constraints + 3 public inputs + 1


@dataclass(frozen=True)
class Ceremonies:
    workdir: Path
    final: Phase2  # two phase-1 and two phase-2 participants, both beacons
    other: Phase2  # another phase 2 over the same powers of tau: one participant, no beacon
    keys: CircuitKeys
    other_keys: CircuitKeys


@pytest.fixture(scope="module")
def ceremonies(tmp_path_factory) -> Ceremonies:
    workdir = tmp_path_factory.mktemp("ceremony")
    # the R1CS participants set up: circom2 --O2, as groth16py compiles (docs/zk.md step 1)
    r1cs = compile_circom2(LEAF_HASH, workdir / "circuit", "--O2") / "main.r1cs"
    ptau = phase1(workdir / "phase1", POWER, ["first phase-1 secret", "second phase-1 secret"])
    final = phase2(r1cs, ptau, workdir / "phase2", ["first phase-2 secret", "second secret"])
    other = phase2(r1cs, ptau, workdir / "other", ["someone else's phase 2"], complete=False)
    cache = workdir / "cache"  # ceremony_keys compiles the circuit here (not in .cache/zk)
    keys = ceremony_keys(LEAF_HASH, final.zkey, cache)
    other_keys = ceremony_keys(LEAF_HASH, other.zkey, cache)
    return Ceremonies(workdir, final, other, keys, other_keys)


def _statement() -> tuple[dict[str, int], list[int]]:
    """Alice's key holding 7 of a token at nonce 3: the witness and the public signals."""
    ax, ay = ALICE_KEY.public_key
    account = Account(ax, ay, token=0xE7, balance=7 * 10**18, nonce=3)
    inputs = {"ax": ax, "ay": ay, "token": 0xE7, "balance": 7 * 10**18, "nonce": 3}
    return inputs, [account.leaf(), account.token, account.balance]


def test_ceremony_key_proves_and_verifies_everywhere(ceremonies, project, deployer):
    keys = ceremonies.keys
    # the import reads the ceremony's verifying key, not a key of its own
    vk = keys.verifying_key_json()
    for field in ("vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2", "IC"):
        assert vk[field] == ceremonies.final.verification_key[field], field
    inputs, public = _statement()
    proof = prove_checked(Groth16Prover(keys), inputs, public)  # groth16py verifies
    words = list(proof.words)
    verifier = deployer.deploy(project.Groth16Verifier, *verifier_args(keys))
    assert verifier.inputCount() == 3
    assert verifier.verifyProof(words, public)
    assert py_ecc_verify(vk, words, public)
    assert snarkjs_verify(ceremonies.final.verification_key, words, public, ceremonies.workdir)

    wrong = [public[0], public[1], (public[2] + 1) % SNARK_FIELD]  # another balance
    assert not Groth16Prover(keys).verify(proof, wrong)
    assert not verifier.verifyProof(words, wrong)
    assert not snarkjs_verify(ceremonies.final.verification_key, words, wrong, ceremonies.workdir)


def test_key_from_another_ceremony_refuses_the_proof(ceremonies, project, deployer):
    inputs, public = _statement()
    proof = prove_checked(Groth16Prover(ceremonies.keys), inputs, public)
    other = Groth16Prover(ceremonies.other_keys)
    assert not other.verify(proof, public)
    other_verifier = deployer.deploy(project.Groth16Verifier, *verifier_args(ceremonies.other_keys))
    assert not other_verifier.verifyProof(list(proof.words), public)
    assert not snarkjs_verify(
        ceremonies.other.verification_key, list(proof.words), public, ceremonies.workdir
    )
    # and the other way round: the other ceremony's proof fails under the final key
    other_proof = prove_checked(other, inputs, public)
    assert not Groth16Prover(ceremonies.keys).verify(other_proof, public)


def test_tampered_contribution_fails_zkey_verify(ceremonies):
    """A `.zkey` whose last contribution record was altered (one bit of its public key) is
    refused by `snarkjs zkey verify`, which every participant runs before the key is used."""
    data = bytearray(ceremonies.final.zkey.read_bytes())
    data[-100] ^= 1  # inside the contributions section, the last of the file
    tampered = ceremonies.workdir / "tampered.zkey"
    tampered.write_bytes(bytes(data))
    r1cs = ceremonies.workdir / "circuit" / "main.r1cs"
    ptau = ceremonies.workdir / "phase1" / "pot_final.ptau"
    with pytest.raises(RuntimeError, match="zkey verify"):
        snarkjs("zkey", "verify", str(r1cs), str(ptau), str(tampered), cwd=ceremonies.workdir)
