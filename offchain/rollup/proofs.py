"""Evidence builders of format v2, as the contract's ABI tuples: the state dispute (witnesses per
leaf access), the signature dispute (one SignerEvidence per distinct sender), the fraud
commitment of commit-then-reveal, and withdrawal claims.

The ABI strings of FraudProof and WithdrawalClaim are this side's reading of the v2 interface
(docs/rollup-spec.md); SignatureProof follows the fixed interface field for field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from eth_abi import encode as abi_encode
from eth_utils import to_checksum_address

from offchain.bls import g2_words, hint_words

from .execute import Execution
from .hashes import batch_hash, withdrawal_id
from .hashing import keccak
from .signatures import KeysAt, signers
from .state import L2State
from .types import Account, Commitment, QueuedDeposit, QueuedForced

__all__ = [
    "FRAUD_PROOF_ABI",
    "SIGNATURE_PROOF_ABI",
    "WITHDRAWAL_CLAIM_ABI",
    "FraudCommitment",
    "FraudProof",
    "SignatureProof",
    "SignerEvidence",
    "WithdrawalClaim",
    "batch_hash",
    "commitment_for",
    "fraud_proof",
    "signature_proof",
    "signer_evidence",
]

_G2_ABI = "(uint256,uint256,uint256,uint256,uint256,uint256,uint256,uint256)"
#: RollupTypes.FraudProof v2: batchIndex, commitmentHashes, commitmentIndex,
#: prev (postRoot, depositEnd, forcedEnd, restHash), postRoot, depositEnd, forcedEnd, rest,
#: deposits (token, amount, owner), witnesses, forced (sender, l2tx).
FRAUD_PROOF_ABI = (
    "(uint256,bytes32[],uint256,(bytes32,uint32,uint32,bytes32),bytes32,uint32,uint32,bytes,"
    "(address,uint256,address)[],bytes,(address,bytes)[])"
)
#: SignatureProof: batchIndex, commitmentHashes, commitmentIndex, postRoot, depositEnd,
#: forcedEnd, rest, signers (account 60 bytes, siblings 24, key BLS.G2Point), signatureHint
#: (the square-root hint of the compressed signature, offchain.bls.hint).
SIGNATURE_PROOF_ABI = (
    f"(uint256,bytes32[],uint256,bytes32,uint32,uint32,bytes,(bytes,bytes32[],{_G2_ABI})[],"
    "uint256[2])"
)
#: WithdrawalClaim v2: batchIndex, commitmentHashes, commitmentIndex, postRoot, depositEnd,
#: forcedEnd, rest, txIndex (slot in posted order), accountLeaf, siblings, forcedSender,
#: forcedTx (RollupTypes.WithdrawalProof).
WITHDRAWAL_CLAIM_ABI = (
    "(uint256,bytes32[],uint256,bytes32,uint32,uint32,bytes,uint256,bytes,bytes,address,bytes)"
)
_ZERO_ADDRESS = "0x" + "00" * 20
_ZERO_G2 = (0,) * 8


def _dep_tuple(d: QueuedDeposit) -> tuple:
    return (to_checksum_address(d.token), d.amount, to_checksum_address(d.owner))


@dataclass(frozen=True)
class FraudProof:
    """The state dispute: a commitment whose transition from the previous post-state is wrong."""

    batch_index: int
    commitment_hashes: tuple[bytes, ...]
    commitment_index: int
    prev: Commitment | None
    disputed: Commitment
    deposits: tuple[QueuedDeposit, ...]
    witnesses: bytes
    forced: tuple[QueuedForced, ...] = ()

    def as_abi(self) -> tuple:
        if self.prev is None:
            prev = (b"\x00" * 32, 0, 0, b"\x00" * 32)
        else:
            p = self.prev
            prev = (p.post_root, p.deposit_end, p.forced_end, keccak(p.rest()))
        d = self.disputed
        return (
            self.batch_index,
            list(self.commitment_hashes),
            self.commitment_index,
            prev,
            d.post_root,
            d.deposit_end,
            d.forced_end,
            d.rest(),
            [_dep_tuple(x) for x in self.deposits],
            self.witnesses,
            [(to_checksum_address(f.sender), f.data) for f in self.forced],
        )

    def proof_hash(self) -> bytes:
        """keccak256(abi.encode(p)), what a fraud commitment binds."""
        return keccak(abi_encode([FRAUD_PROOF_ABI], [self.as_abi()]))


def fraud_proof(
    batch_index: int,
    commitments: Sequence[Commitment],
    index: int,
    deposits: Sequence[QueuedDeposit],
    execution: Execution,
    forced: Sequence[QueuedForced] = (),
) -> FraudProof:
    """Evidence that commitments[index] is wrong, from its execution on the right pre-state
    (witnesses: one per leaf access, 828 bytes, access order, up to the fault)."""
    return FraudProof(
        batch_index=batch_index,
        commitment_hashes=tuple(c.hash() for c in commitments),
        commitment_index=index,
        prev=commitments[index - 1] if index > 0 else None,
        disputed=commitments[index],
        deposits=tuple(deposits),
        witnesses=execution.witness_bytes(),
        forced=tuple(forced),
    )


@dataclass(frozen=True)
class SignerEvidence:
    """One distinct sender of the disputed commitment: its account leaf in the post-state, the
    24 siblings against postRoot, and its key at postedBlock (None: no key, passed as zeros)."""

    index: int
    account: Account
    siblings: tuple[bytes, ...]
    key_eip2537: bytes | None

    def as_abi(self) -> tuple:
        key = _ZERO_G2 if self.key_eip2537 is None else g2_words(self.key_eip2537)
        return (self.account.packed(), list(self.siblings), key)


def signer_evidence(
    commitment: Commitment, post_state: L2State, keys_at: KeysAt
) -> list[SignerEvidence]:
    """SignerEvidence for every distinct sender, first-appearance order, from the post-state
    (the tree whose root is the commitment's postRoot)."""
    if post_state.root != commitment.post_root:
        raise ValueError(
            "signer evidence must come from the commitment's post-state (its root differs)"
        )
    out = []
    for sender in signers(commitment):
        acc = post_state.account(sender)
        key = None if acc.is_empty else keys_at(acc.owner)
        out.append(
            SignerEvidence(
                index=sender,
                account=acc,
                siblings=tuple(post_state.tree.proof(sender)),
                key_eip2537=None if key is None else key.eip2537(),
            )
        )
    return out


@dataclass(frozen=True)
class SignatureProof:
    """The signature dispute (`proveSignatureFraud` / `revealSignatureFraud`)."""

    batch_index: int
    commitment_hashes: tuple[bytes, ...]
    commitment_index: int
    disputed: Commitment
    signers: tuple[SignerEvidence, ...]

    def as_abi(self) -> tuple:
        d = self.disputed
        return (
            self.batch_index,
            list(self.commitment_hashes),
            self.commitment_index,
            d.post_root,
            d.deposit_end,
            d.forced_end,
            d.rest(),
            [s.as_abi() for s in self.signers],
            list(hint_words(d.signature)) if d.signature else [0, 0],
        )

    def proof_hash(self) -> bytes:
        """keccak256(abi.encode(p)), what a fraud commitment binds."""
        return keccak(abi_encode([SIGNATURE_PROOF_ABI], [self.as_abi()]))


def signature_proof(
    batch_index: int,
    commitments: Sequence[Commitment],
    index: int,
    post_state: L2State,
    keys_at: KeysAt,
) -> SignatureProof:
    """Evidence that commitments[index]'s aggregate is wrong (or a signer is ruled out);
    `post_state` is the state after that commitment, `keys_at` the keys at postedBlock."""
    disputed = commitments[index]
    return SignatureProof(
        batch_index=batch_index,
        commitment_hashes=tuple(c.hash() for c in commitments),
        commitment_index=index,
        disputed=disputed,
        signers=tuple(signer_evidence(disputed, post_state, keys_at)),
    )


@dataclass(frozen=True)
class FraudCommitment:
    """What a challenger commits to (`Rollup.commitFraud`) before revealing either kind of
    proof: its hash, bound to the bounty's address, hidden by a salt."""

    batch_index: int
    batch_hash: bytes
    proof_hash: bytes
    challenger: str
    salt: bytes

    def __post_init__(self) -> None:
        if len(self.batch_hash) != 32 or len(self.proof_hash) != 32 or len(self.salt) != 32:
            raise ValueError("batch hash, proof hash and salt must be 32 bytes each")

    def hash(self) -> bytes:
        """keccak256(abi.encode(proofHash, challenger, salt)), as the contract."""
        return keccak(
            abi_encode(
                ["bytes32", "address", "bytes32"],
                [self.proof_hash, to_checksum_address(self.challenger), self.salt],
            )
        )


class Disputable(Protocol):
    """What a fraud commitment needs of any dispute's evidence (state, signature, blob)."""

    @property
    def batch_index(self) -> int: ...

    @property
    def commitment_hashes(self) -> tuple[bytes, ...]: ...

    def proof_hash(self) -> bytes: ...


def commitment_for(proof: Disputable, challenger: str, salt: bytes) -> FraudCommitment:
    """The commitment a later reveal of `proof` (state or signature dispute) opens."""
    return FraudCommitment(
        proof.batch_index, batch_hash(proof.commitment_hashes), proof.proof_hash(), challenger, salt
    )


@dataclass(frozen=True)
class WithdrawalClaim:
    """Everything `Rollup.finalizeWithdrawal` needs for one withdraw (tx_index: its slot in
    posted order)."""

    batch_index: int
    commitment_hashes: tuple[bytes, ...]
    commitment_index: int
    commitment: Commitment
    tx_index: int
    account_leaf: bytes
    siblings: tuple[bytes, ...]
    owner: str
    token: str
    amount: int
    forced_tx: bytes = b""  # the forced withdraw, when the tx is an applied forced slot
    forced_sender: str = ""  # its forced-queue entry's L1 sender (empty for a signed withdraw)

    @property
    def withdrawal_id(self) -> bytes:
        return withdrawal_id(self.batch_index, self.commitment_index, self.tx_index)

    def as_abi(self) -> tuple:
        c = self.commitment
        return (
            self.batch_index,
            list(self.commitment_hashes),
            self.commitment_index,
            c.post_root,
            c.deposit_end,
            c.forced_end,
            c.rest(),
            self.tx_index,
            self.account_leaf,
            b"".join(self.siblings),
            to_checksum_address(self.forced_sender or _ZERO_ADDRESS),
            self.forced_tx,
        )
