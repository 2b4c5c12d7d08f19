"""The aggregate signature of a commitment (format v2; docs/rollup-spec.md, "Signature dispute").

Every transfer and withdraw of a commitment is signed by its sender's BLS key (registered in
BLSKeyRegistry, valid at the batch's postedBlock) over messages.tx_message(tx, nonce); the
commitment carries one aggregate, the sum of those signatures. The nonces are not posted: they
come from the **post-state**, as the on-chain signature dispute derives them. With a valid state
transition the signed txs are the only nonce changes, so a sender with n signed txs in the
commitment and post-state nonce N signed its j-th one (0-based, posted order) with N - n + j.
A sender whose post-state account is empty (NO_ACCOUNT) or whose N < n (BAD_SIGNATURE) cannot
come from a valid transition; an honest commitment never has either.

Pure: the post-state and the key lookup are passed in; pairings are blst's (offchain.bls).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from offchain.bls import (
    BatchItem,
    BLSError,
    PublicKey,
    Signature,
    find_invalid,
    g1_from_eip2537,
    verify_aggregate,
)
from offchain.bls import aggregate as bls_aggregate
from offchain.errors import RollupError

from .execute import Fault
from .messages import tx_message
from .params import MAX_BALANCE
from .types import Account, Commitment, SignedTx, Transfer, Withdraw

#: owner address -> the key valid for it at the batch's postedBlock, or None (no key).
KeysAt = Callable[[str], PublicKey | None]


class AccountLookup(Protocol):
    """Anything that answers the account at an index (an L2State, a post-state view)."""

    def account(self, index: int) -> Account: ...


class SignerFault(RollupError):
    """A signer the commitment's post-state rules out (NO_ACCOUNT, BAD_SIGNATURE, NO_KEY)."""

    def __init__(self, fault: Fault, sender: int, why: str) -> None:
        super().__init__(f"signer {sender}: {why}")
        self.fault = fault
        self.sender = sender


def signers(commitment: Commitment) -> list[int]:
    """The distinct senders of the commitment's transfers and withdraws, in order of first
    appearance (transfers first): the order of the signature dispute's SignerEvidence."""
    seen: dict[int, None] = {}
    for tx in commitment.signed:
        seen.setdefault(tx.sender, None)
    return list(seen)


def signed_nonces(commitment: Commitment, post_state: AccountLookup) -> list[int]:
    """The nonce each signed tx (posted order) was signed with, by the post-state nonce rule.
    SignerFault for a sender whose post-state account is empty or whose nonce is too small."""
    counts: dict[int, int] = {}
    for tx in commitment.signed:
        counts[tx.sender] = counts.get(tx.sender, 0) + 1
    post: dict[int, int] = {}
    for sender in signers(commitment):
        acc = post_state.account(sender)
        if acc.is_empty:
            raise SignerFault(Fault.NO_ACCOUNT, sender, "no account in the post-state")
        if acc.nonce < counts[sender]:
            raise SignerFault(
                Fault.BAD_SIGNATURE,
                sender,
                f"post-state nonce {acc.nonce} but {counts[sender]} signed txs in the commitment",
            )
        post[sender] = acc.nonce
    seen: dict[int, int] = {}
    out = []
    for tx in commitment.signed:
        j = seen.get(tx.sender, 0)
        seen[tx.sender] = j + 1
        out.append(post[tx.sender] - counts[tx.sender] + j)
    return out


def commitment_messages(
    commitment: Commitment, post_state: AccountLookup
) -> list[tuple[str, bytes]]:
    """(owner, message) of every transfer then withdraw, in posted order (nonce rule above).
    SignerFault when a signer is ruled out; ValueError for an amount above 2^128-1 (a
    MALFORMED commitment, proven by the state dispute)."""
    nonces = signed_nonces(commitment, post_state)
    return [
        (post_state.account(tx.sender).owner, tx_message(tx, nonce))
        for tx, nonce in zip(commitment.signed, nonces, strict=True)
    ]


def signature_from_bytes(data: bytes) -> Signature:
    """A G1 signature from blst's serialisations: 48 bytes compressed or 96 uncompressed
    (x | y, flag bits in the first byte). BLSError unless a point of the subgroup."""
    data = bytes(data)
    if len(data) == 48:
        return Signature.from_compressed(data)
    if len(data) != 96:
        raise BLSError(f"a G1 signature is 48 or 96 bytes, got {len(data)}")
    flags = data[0] & 0xE0
    if flags & 0x80:
        raise BLSError("96-byte G1 signature has the compression flag set")
    if flags & 0x40:  # infinity: every other bit zero
        if data[0] != 0x40 or any(data[1:]):
            raise BLSError("96-byte G1 infinity must be 0x40 followed by zeros")
        return Signature.from_eip2537(bytes(128))
    if flags:
        raise BLSError("96-byte G1 signature has the sign flag set (only for compressed form)")
    padded = bytes(16) + data[:48] + bytes(16) + data[48:]
    return Signature.from_point(g1_from_eip2537(padded))


def aggregate_commitment(signed: Sequence[SignedTx]) -> bytes:
    """The 48-byte compressed aggregate of the signed txs (the builder's commitment signature).
    The caller orders nothing: the sum does not depend on order."""
    if not signed:
        raise ValueError("a commitment without transfers or withdraws carries no signature")
    return bls_aggregate([signature_from_bytes(s.signature) for s in signed]).compressed


@dataclass(frozen=True)
class _Prepared:
    """A commitment whose signers passed: its (key, message) pairs and decoded aggregate."""

    keys: tuple[PublicKey, ...]
    messages: tuple[bytes, ...]
    signature: Signature


def _prepare(
    commitment: Commitment, post_state: AccountLookup, keys_at: KeysAt
) -> _Prepared | Fault:
    """Everything before the pairing, in the contract's order; a Fault when decided already."""
    if not commitment.signed:
        return Fault.NONE
    counts: dict[int, int] = {}
    for tx in commitment.signed:
        counts[tx.sender] = counts.get(tx.sender, 0) + 1
    keys: dict[str, PublicKey] = {}
    for sender in signers(commitment):  # per signer: NO_ACCOUNT, nonce, NO_KEY (the contract's)
        acc = post_state.account(sender)
        if acc.is_empty:
            return Fault.NO_ACCOUNT
        if acc.nonce < counts[sender]:
            return Fault.BAD_SIGNATURE
        key = keys_at(acc.owner)
        if key is None:
            return Fault.NO_KEY
        keys[acc.owner] = key
    try:
        sig = Signature.from_compressed(commitment.signature)
    except BLSError:
        return Fault.BAD_SIGNATURE  # not a point (or, caught here already, not in the subgroup)
    if any(tx.amount > MAX_BALANCE for tx in commitment.signed):
        return Fault.MALFORMED  # an amount that cannot be signed
    messages = commitment_messages(commitment, post_state)
    return _Prepared(tuple(keys[o] for o, _ in messages), tuple(m for _, m in messages), sig)


def check_commitment_signature(
    commitment: Commitment, post_state: AccountLookup, keys_at: KeysAt, dst: bytes
) -> Fault:
    """The signature dispute's verdict on a commitment, in the contract's order
    (SignatureDispute.verdict): per signer (first appearance) NO_ACCOUNT, BAD_SIGNATURE (nonce),
    NO_KEY, the first signer with any of them deciding; then signature bytes that are no G1
    point: BAD_SIGNATURE; then a signed amount above 2^128-1: MALFORMED; then the aggregate:
    BAD_SIGNATURE unless it verifies. NONE if it verifies or the commitment signs nothing (an
    outcome byte other than 0/1 is the state dispute's MALFORMED)."""
    prep = _prepare(commitment, post_state, keys_at)
    if isinstance(prep, Fault):
        return prep
    ok = verify_aggregate(list(prep.keys), list(prep.messages), prep.signature, dst)
    return Fault.NONE if ok else Fault.BAD_SIGNATURE


@dataclass(frozen=True)
class PendingSignature:
    """One incoming signed tx with what its check needs: the nonce the sender signed with and
    the sender's registered key."""

    signed: SignedTx
    nonce: int
    key: PublicKey


def find_bad_signatures(pending: Sequence[PendingSignature], dst: bytes) -> list[int]:
    """Indexes of the txs whose signature does not verify (the batcher's admission check).
    Batched with random coefficients (offchain.bls.find_invalid), so one bad signature cannot
    hide among good ones; bisection names every culprit. An undecodable signature is bad."""
    items: list[BatchItem] = []
    where: list[int] = []
    bad: list[int] = []
    for i, p in enumerate(pending):
        tx: Transfer | Withdraw = p.signed.tx
        try:
            sig = signature_from_bytes(p.signed.signature)
            message = tx_message(tx, p.nonce)
        except (BLSError, ValueError):
            bad.append(i)
            continue
        items.append(BatchItem(p.key, message, sig))
        where.append(i)
    bad.extend(where[j] for j in find_invalid(items, dst))
    return sorted(bad)
