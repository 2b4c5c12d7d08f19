"""Validator: rebuild the L2 state from L1 data alone and prove the first wrong commitment.

A proof goes in two transactions so the bounty cannot be stolen from the mempool: first
`commitFraud(h)` with h binding the batch, this validator's address and a fresh salt, then, in a
later block, `revealFraud(proof, address, salt)`. Copying the commitment helps nobody (it names
this address); copying the reveal pays this address; proving it without a commitment leaves the
bounty open to `claimBounty` with this earlier commitment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from web3.exceptions import ContractLogicError

from .blob_read import BlobFraudProof, with_blob_fraud
from .l1 import BatchReading, RollupL1, Signer, TxFailed
from .proofs import FraudCommitment, FraudProof, SignatureProof, commitment_for
from .replay import ReplayResult, replay

#: Any dispute's evidence: the state dispute, the signature dispute, the blob dispute.
AnyProof = FraudProof | SignatureProof | BlobFraudProof


def entry(proof: AnyProof, stage: str) -> str:
    """The rollup function taking `proof` at `stage` ("prove" or "reveal"): the state
    dispute's (proveFraud), the signature dispute's or the blob dispute's."""
    kind = (
        "SignatureFraud"
        if isinstance(proof, SignatureProof)
        else "BlobFraud"
        if isinstance(proof, BlobFraudProof)
        else "Fraud"
    )
    return stage + kind


@dataclass(frozen=True)
class Inspection:
    """One look at the rollup: what L1 holds, and the replay of its readable prefix."""

    reading: BatchReading
    result: ReplayResult


@dataclass
class Validator:
    l1: RollupL1
    signer: Signer

    def check(self) -> ReplayResult:
        """Replay every live batch — and after a freeze every discarded one, still provable in its
        window — from its posting calldata, the bridge's deposit logs and the rollup's forced-queue
        logs (blob batches from their blobs; a commitment the blobs do not hold is a blob
        fraud)."""
        reading = self.l1.read_batches(self.l1.disputable_end())
        if reading.unreadable is not None:
            raise reading.unreadable
        result = replay(
            reading.batches,
            self.l1.deposit_queue(),
            self.l1.signing_dst(),
            self.l1.forced_queue(),
            keys=self.l1.key_history(),
        )
        return with_blob_fraud(result, reading)

    def inspect(self) -> Inspection:
        """Like `check`, but a batch that cannot be read from L1 is reported, not raised: the
        batches before it are replayed (a fraud among them can still be proven)."""
        reading = self.l1.read_batches(self.l1.disputable_end())
        result = replay(
            reading.batches,
            self.l1.deposit_queue(),
            self.l1.signing_dst(),
            self.l1.forced_queue(),
            keys=self.l1.key_history(),
        )
        return Inspection(reading, with_blob_fraud(result, reading))

    def commit(self, proof: AnyProof, salt: bytes | None = None) -> tuple[FraudCommitment, Any]:
        """Send `commitFraud` for `proof`; returns the commitment and the receipt."""
        c = commitment_for(proof, self.signer.address, salt or os.urandom(32))
        receipt = self.signer.send(self.l1.rollup.functions.commitFraud(c.hash()))
        return c, receipt

    def reveal(self, proof: AnyProof, c: FraudCommitment) -> Any:
        """Send `revealFraud` (or, for a bad aggregate, `revealSignatureFraud`; for a blob that
        does not hold a commitment, `revealBlobFraud`), mined in a later block than the
        commitment."""
        reveal = getattr(self.l1.rollup.functions, entry(proof, "reveal"))
        return self.signer.send(reveal(proof.as_abi(), c.challenger, c.salt))

    def prove(self, proof: AnyProof) -> Any:
        """Send the proof directly (`proveFraud` / `proveSignatureFraud` / `proveBlobFraud`),
        without commit-reveal: the bounty then stays open to an earlier commitment's claim."""
        direct = getattr(self.l1.rollup.functions, entry(proof, "prove"))
        return self.signer.send(direct(proof.as_abi()))

    def claim(self, c: FraudCommitment, committed_at: int) -> Any | None:
        """If someone else proved the batch first, take its bounty with our earlier commitment;
        returns the receipt, or None when no open bounty is ours to take (a bounty for a different
        proof of the batch is not: the commitment covers one proof)."""
        for b in self.l1.bounties_for(c.batch_index, c.batch_hash):
            if b.proof_hash != c.proof_hash:
                continue
            if b.amount and committed_at < b.proven_block and committed_at < b.commit_block:
                fn = self.l1.rollup.functions.claimBounty(b.id, c.challenger, c.salt)
                return self.signer.send(fn)
        return None

    def challenge(self) -> tuple[ReplayResult, Any | None]:
        """Check, and if a commitment is wrong commit to its proof, then reveal it; returns the
        reveal's receipt (or the bounty claim's, when another prover was first)."""
        result = self.check()
        if result.fraud is None:
            return result, None
        proof = result.fraud.proof
        c, committed = self.commit(proof)
        try:
            return result, self.reveal(proof, c)
        except (TxFailed, ContractLogicError):
            claimed = self.claim(c, int(committed["blockNumber"]))
            if claimed is None:
                raise
            return result, claimed
