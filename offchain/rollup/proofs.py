"""Evidence builders: fraud proofs and withdrawal inclusion proofs as the contract's ABI tuples."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_abi import encode as abi_encode
from eth_utils import to_checksum_address

from .execute import Execution
from .hashing import keccak
from .types import Commitment, QueuedDeposit, QueuedForced


def _dep_tuple(d: QueuedDeposit) -> tuple:
    return (to_checksum_address(d.token), d.amount, to_checksum_address(d.owner))


@dataclass(frozen=True)
class FraudProof:
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
            prev = (b"\x00" * 32, 0, 0, b"\x00" * 32, 0)
        else:
            p = self.prev
            prev = (p.post_root, p.deposit_end, p.fee_account, keccak(p.tx_data), p.forced_end)
        d = self.disputed
        return (  # field order of RollupTypes.FraudProof (FRAUD_PROOF_ABI)
            self.batch_index,
            list(self.commitment_hashes),
            self.commitment_index,
            prev,
            d.post_root,
            d.deposit_end,
            d.fee_account,
            d.tx_data,
            [_dep_tuple(x) for x in self.deposits],
            self.witnesses,
            d.forced_end,
            [f.data for f in self.forced],
        )

    def proof_hash(self) -> bytes:
        """keccak256(abi.encode(p)), as the contract hashes the proof a fraud commitment binds."""
        return keccak(abi_encode([FRAUD_PROOF_ABI], [self.as_abi()]))


# abi type of RollupTypes.FraudProof (CommitmentRef: postRoot, depositEnd, feeAccount, txsHash,
# forcedEnd; Deposit: token, amount, owner)
FRAUD_PROOF_ABI = (
    "(uint256,bytes32[],uint256,(bytes32,uint32,uint24,bytes32,uint32),bytes32,uint32,uint24,"
    "bytes,(address,uint256,address)[],bytes,uint32,bytes[])"
)


def fraud_proof(
    batch_index: int,
    commitments: Sequence[Commitment],
    index: int,
    deposits: Sequence[QueuedDeposit],
    execution: Execution,
    forced: Sequence[QueuedForced] = (),
) -> FraudProof:
    """Evidence that commitments[index] is wrong, from its execution on the right pre-state."""
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
class FraudCommitment:
    """What a challenger commits to (`Rollup.commitFraud`) before revealing its proof: the proof
    itself (by hash, so only whoever built it can commit to it), bound to the address that gets
    the bounty, hidden by a salt. `batch_index` and `batch_hash` locate the bounty afterwards."""

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


def batch_hash(commitment_hashes: Sequence[bytes]) -> bytes:
    """The stored batch hash: keccak256 of the commitment hashes back to back."""
    return keccak(b"".join(commitment_hashes))


def commitment_for(proof: FraudProof, challenger: str, salt: bytes) -> FraudCommitment:
    """The commitment that a later `revealFraud(proof, challenger, salt)` reveals."""
    return FraudCommitment(
        proof.batch_index, batch_hash(proof.commitment_hashes), proof.proof_hash(), challenger, salt
    )


@dataclass(frozen=True)
class WithdrawalClaim:
    """Everything `Rollup.finalizeWithdrawal` needs for one withdraw tx."""

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

    @property
    def withdrawal_id(self) -> bytes:
        return keccak(
            self.batch_index.to_bytes(32, "big")
            + self.commitment_index.to_bytes(32, "big")
            + self.tx_index.to_bytes(32, "big")
        )

    def as_abi(self) -> tuple:
        c = self.commitment
        return (
            self.batch_index,
            list(self.commitment_hashes),
            self.commitment_index,
            c.post_root,
            c.deposit_end,
            c.fee_account,
            c.tx_data,
            self.tx_index,
            self.account_leaf,
            b"".join(self.siblings),
            c.forced_end,
            self.forced_tx,
        )
