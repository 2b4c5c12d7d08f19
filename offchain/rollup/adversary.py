"""Dishonest proposer of format v2 (for tests and the benchmark): builds batches that are wrong
in each way a dispute must catch — state-transition faults (the state dispute) and bad
aggregate signatures (the signature dispute). Each function returns the commitments a cheater
would post on `state`. `copier_calls` is the mempool front-runner of fraud proofs. For blob
batches (docs/rollup-blobs.md): `blob_posting` lays out commitments (any of the above) in blobs,
and `blob_rest_hash_mismatch` / `blob_counts_mismatch` make a posting whose headers the blobs do
not match (the blob dispute)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from enum import Enum
from typing import Any

from offchain.bls import SecretKey, sign

from . import blob_batches
from .builder import build_batch
from .codec import encode_rest
from .execute import Fault, execute
from .hashing import keccak
from .messages import transfer_message
from .signatures import aggregate_commitment
from .state import L2State
from .types import (
    Account,
    Commitment,
    DepositTx,
    ForcedSlot,
    QueuedDeposit,
    QueuedForced,
    SignedTransfer,
    SignedTx,
    Transfer,
)
from .wallet import sign_transfer


class FraudKind(Enum):
    """Ways a commitment can be wrong, with the fault the contract reports for each."""

    WRONG_ROOT = Fault.WRONG_ROOT
    OVERSPEND = Fault.OVERSPEND
    NO_ACCOUNT = Fault.NO_ACCOUNT
    DEPOSIT_SKIPPED = (Fault.WRONG_ROOT, "deposits credited to nobody")
    DEPOSIT_REORDERED = (Fault.WRONG_ROOT, "deposits reordered")
    DEPOSIT_ALTERED = (Fault.WRONG_ROOT, "deposit altered")
    DEPOSIT_FOREIGN = Fault.TOKEN_MISMATCH
    MALFORMED = Fault.MALFORMED
    # signature dispute
    BAD_SIGNATURE = Fault.BAD_SIGNATURE  # a transfer signed by another key (theft)
    BAD_AGGREGATE = (Fault.BAD_SIGNATURE, "aggregate of other messages")
    SWAPPED = (Fault.BAD_SIGNATURE, "recipients swapped after signing")
    WRONG_NONCE = (Fault.BAD_SIGNATURE, "replayed nonce")
    UNDECODABLE_SIGNATURE = (Fault.BAD_SIGNATURE, "signature not a G1 point")
    NO_KEY = Fault.NO_KEY

    @property
    def fault(self) -> Fault:
        return self.value if isinstance(self.value, Fault) else self.value[0]

    @property
    def signature_dispute(self) -> bool:
        return self.fault in (Fault.BAD_SIGNATURE, Fault.NO_KEY)


class ForcedFraudKind(Enum):
    """Ways a commitment can mishandle the forced queue, with the fault the contract reports."""

    #: v2: forcedEnd follows the slot count, so dropping forced txs shows as skipped slots.
    SKIPPED = (Fault.FORCED_OUTCOME, "forced txs dropped")
    OUTCOME_FLIPPED = Fault.FORCED_OUTCOME
    #: Reordering only matters when it changes a forced tx's validity (balances add up in any
    #: order otherwise), so it shows as a slot whose outcome is wrong for the real order.
    REORDERED = (Fault.FORCED_OUTCOME, "forced txs reordered")
    #: Another tx applied with the same outcomes: the claimed root is not the real one.
    ALTERED = (Fault.WRONG_ROOT, "forced tx altered")

    @property
    def fault(self) -> Fault:
        return self.value if isinstance(self.value, Fault) else self.value[0]


def forged_root(state: L2State, changes: dict[int, Account]) -> bytes:
    """The root a cheater claims after writing `changes` regardless of the rules."""
    tree = state.tree.overlay()
    for index, acc in changes.items():
        tree.set_leaf(index, acc.leaf_hash())
    return tree.root


def _honest(
    state: L2State,
    txs: Sequence[SignedTx],
    deposits: Sequence[QueuedDeposit] = (),
    forced: Sequence[QueuedForced] = (),
) -> list[Commitment]:
    batch, _ = build_batch(state, deposits, txs, forced=forced)
    if batch.rejected:
        raise ValueError(f"the cheater's base txs must be valid: {batch.rejected}")
    return [bc.commitment for bc in batch.commitments]


def _replace_last(cs: list[Commitment], **changes: Any) -> list[Commitment]:
    cs = list(cs)
    cs[-1] = dataclasses.replace(cs[-1], posted_rest=None, **changes)
    return cs


def _empty(state: L2State, post_root: bytes, deposit_end: int | None = None) -> Commitment:
    end = state.deposit_end if deposit_end is None else deposit_end
    return Commitment(post_root, end, state.forced_end, 0)


def wrong_root(state: L2State, txs: Sequence[SignedTx]) -> list[Commitment]:
    """Valid, correctly signed txs, but a post-root that is not theirs."""
    cs = _honest(state, txs)
    return _replace_last(cs, post_root=keccak(b"lie" + cs[-1].post_root))


def _single_transfer(
    state: L2State, signed: SignedTransfer, changes: dict[int, Account]
) -> list[Commitment]:
    return [
        Commitment(
            forged_root(state, changes),
            state.deposit_end,
            state.forced_end,
            0,
            transfers=(signed.tx,),
            signature=aggregate_commitment([signed]),
        )
    ]


def overspend(
    state: L2State, dst: bytes, secret: SecretKey, sender: int, recipient: int
) -> list[Commitment]:
    """A correctly signed transfer of more than the sender holds; the excess is minted."""
    s, r = state.account(sender), state.account(recipient)
    amount = 10 ** len(str(s.balance))  # a power of ten above the balance: packable
    tx = sign_transfer(secret, dst, sender, recipient, amount, 0, s.nonce)
    return _single_transfer(
        state,
        tx,
        {
            sender: Account(s.owner, s.token, 0, s.nonce + 1),
            recipient: Account(r.owner, r.token, r.balance + amount, r.nonce),
        },
    )


def to_nowhere(
    state: L2State, dst: bytes, secret: SecretKey, sender: int, empty_index: int, amount: int
) -> list[Commitment]:
    """A correctly signed transfer to an account that does not exist (the funds vanish)."""
    s = state.account(sender)
    if not state.account(empty_index).is_empty:
        raise ValueError(f"account {empty_index} exists; pick an empty index")
    tx = sign_transfer(secret, dst, sender, empty_index, amount, 0, s.nonce)
    return _single_transfer(
        state, tx, {sender: Account(s.owner, s.token, s.balance - amount, s.nonce + 1)}
    )


def steal(
    state: L2State, dst: bytes, thief_key: SecretKey, victim: int, thief: int, amount: int
) -> list[Commitment]:
    """A transfer out of `victim` signed by someone else's key: the state transition is valid,
    the aggregate is not (signature dispute, BAD_SIGNATURE)."""
    v = state.account(victim)
    tx = sign_transfer(thief_key, dst, victim, thief, amount, 0, v.nonce)
    return _honest(state, [tx])


def bad_aggregate(state: L2State, txs: Sequence[SignedTx], dst: bytes) -> list[Commitment]:
    """Valid txs whose aggregate is replaced by a valid G1 point over other messages."""
    cs = _honest(state, txs)
    other = sign(SecretKey(0xBAD), b"not these txs", dst).compressed
    return _replace_last(cs, signature=other)


def undecodable_signature(state: L2State, txs: Sequence[SignedTx]) -> list[Commitment]:
    """Valid txs whose 48 signature bytes are no compressed G1 point (x not on the curve)."""
    cs = _honest(state, txs)
    return _replace_last(cs, signature=b"\x80" + b"\x00" * 46 + b"\x05")


def swapped_recipients(state: L2State, txs: Sequence[SignedTransfer]) -> list[Commitment]:
    """The first two transfers are posted with their recipients exchanged after signing (each
    signature is over the other recipient): the transition is valid, the aggregate is not."""
    if len(txs) < 2 or txs[0].tx.recipient == txs[1].tx.recipient:
        raise ValueError("swapped_recipients needs two transfers to different recipients")
    a, b = txs[0], txs[1]
    swapped = [
        SignedTransfer(dataclasses.replace(a.tx, recipient=b.tx.recipient), a.signature),
        SignedTransfer(dataclasses.replace(b.tx, recipient=a.tx.recipient), b.signature),
        *txs[2:],
    ]
    return _honest(state, swapped)


def replay_nonce(state: L2State, old: SignedTransfer) -> list[Commitment]:
    """Include again a transfer already executed (its signature is for a spent nonce): the
    transition is valid if the balance allows, the aggregate is not."""
    return _honest(state, [old])


def missing_key_signer(
    state: L2State, sender: int, recipient: int, amount: int, dst: bytes
) -> list[Commitment]:
    """A transfer from an account whose owner registered no key (any signature): NO_KEY."""
    tx = Transfer(sender, recipient, amount, 0)
    nonce = state.account(sender).nonce
    forged = sign(SecretKey(0x5EED), transfer_message(tx, nonce), dst).compressed
    return _honest(state, [SignedTransfer(tx, forged)])


def skip_deposit(state: L2State, queued: int) -> list[Commitment]:
    """Declare the next `queued` deposits consumed without crediting them: counts say 0
    deposits while depositEnd moves (DEPOSIT_MISMATCH cannot be posted in v2, where depositEnd
    follows the counts), so the cheater credits them to nobody: deposits into a dead index with
    the pre-root kept (WRONG_ROOT)."""
    deposits = tuple(DepositTx(2**24 - 1 - i) for i in range(queued))
    return [
        Commitment(state.root, state.deposit_end + queued, state.forced_end, 0, deposits=deposits)
    ]


def misapply_deposits(
    state: L2State, deposits: Sequence[QueuedDeposit], applied: Sequence[QueuedDeposit]
) -> list[Commitment]:
    """Declare `deposits` consumed but credit `applied` instead (reordered or altered)."""
    honest = _honest(state, [], deposits=deposits)[0]
    ex = execute(state, honest, applied, check_root=False)
    if not ex.ok:
        raise ValueError(f"cheater's own execution failed ({ex.fault.name}); use new accounts")
    return [dataclasses.replace(honest, post_root=ex.root, posted_rest=None)]


def deposit_into_foreign(state: L2State, deposit: QueuedDeposit, victim: int) -> list[Commitment]:
    """Credit a deposit to an existing account of another owner."""
    v = state.account(victim)
    root = forged_root(
        state, {victim: Account(v.owner, v.token, v.balance + deposit.amount, v.nonce)}
    )
    return [
        Commitment(root, state.deposit_end + 1, state.forced_end, 0, deposits=(DepositTx(victim),))
    ]


def malformed(state: L2State, txs: Sequence[SignedTx]) -> list[Commitment]:
    """Valid txs, the first transfer's amount posted as an encoding above 2^128-1 (mantissa
    2^27-1, exponent 31): MALFORMED."""
    c = _honest(state, txs)[0]
    if not c.transfers:
        raise ValueError("malformed needs a transfer to corrupt")
    rest = bytearray(encode_rest(c))
    at = 7 + (48 if c.signature else 0) + 3 * len(c.deposits) + 6
    rest[at : at + 4] = (((1 << 27) - 1) << 5 | 31).to_bytes(4, "big")
    from .codec import decode_commitment_at

    decoded, _ = decode_commitment_at(c.post_root + bytes(rest), 0, c.deposit_start, c.forced_start)
    return [decoded]


def empty_on_top(post_root: bytes, deposit_end: int, forced_end: int = 0) -> list[Commitment]:
    """A no-op commitment extending a (possibly fraudulent) claimed state."""
    return [Commitment(post_root, deposit_end, forced_end, 0)]


def skip_forced(state: L2State, forced: Sequence[QueuedForced]) -> list[Commitment]:
    """Claim the forced range consumed, every slot marked skipped with the state untouched —
    valid ones included (FORCED_OUTCOME; in v2 forcedEnd follows the slot count)."""
    return flip_forced_outcome(state, forced)


def flip_forced_outcome(state: L2State, forced: Sequence[QueuedForced]) -> list[Commitment]:
    """Mark every forced tx skipped (state untouched), valid ones included."""
    slots = tuple(ForcedSlot(False) for _ in forced)
    return [
        Commitment(state.root, state.deposit_end, state.forced_end + len(forced), 0, forced=slots)
    ]


def misapply_forced(
    state: L2State, forced: Sequence[QueuedForced], applied: Sequence[QueuedForced]
) -> list[Commitment]:
    """Declare `forced` consumed but execute the entries `applied` instead (reordered or
    altered); the slots carry the outcomes of `applied`."""
    fake = [QueuedForced(state.forced_end + i, f.sender, f.data) for i, f in enumerate(applied)]
    c = _honest(state, [], forced=fake)[0]
    return [dataclasses.replace(c, forced_end=state.forced_end + len(forced), posted_rest=None)]


def copier_calls(rollup: Any, tx_input: bytes, copier: str) -> dict[str, tuple[str, list]]:
    """What a mempool front-runner makes of a challenger's pending reveal or direct proof of
    either dispute (`rollup` is a web3 contract, used only to decode and re-encode the ABI):
    the verbatim copy, the reveal re-addressed to itself, the plain proof with the commitment
    stripped, and for a state proof that plain proof re-encoded to hash differently (witness
    bytes padded, or the unused `prev` of a first commitment filled in). Each value is
    (function name, args) to send from the copier's account."""
    fn, args = rollup.decode_function_input(tx_input)
    proof = args["p"]
    sig = fn.fn_name in ("revealSignatureFraud", "proveSignatureFraud")
    direct = "proveSignatureFraud" if sig else "proveFraud"
    calls: dict[str, tuple[str, list]] = {"stripped": (direct, [proof])}
    fields = list(proof.values()) if isinstance(proof, dict) else list(proof)
    if not sig:
        padded = list(fields)
        padded[9] = bytes(fields[9]) + b"\x00" * 32
        calls["padded"] = ("proveFraud", [tuple(padded)])
        if fields[2] == 0:
            refilled = list(fields)
            refilled[3] = (b"\x01" * 32, 0, 0, b"\x00" * 32)
            calls["refilled"] = ("proveFraud", [tuple(refilled)])
    if fn.fn_name.startswith("reveal"):
        calls["verbatim"] = (fn.fn_name, [proof, args["challenger"], args["salt"]])
        calls["readdressed"] = (fn.fn_name, [proof, copier, args["salt"]])
    return calls


# ------------------------------------------------------------------ blob batches (issue 12)


def blob_posting(batches: Sequence[Sequence[Commitment]]) -> blob_batches.BlobPosting:
    """The honest blob layout of `batches` (commitments per batch): what a cheater starts from,
    and what a state or signature fraud inside a blob batch is posted as."""
    return blob_batches.encode_posting([[(c.post_root, c.rest()) for c in cs] for cs in batches])


def _reheaded(
    posting: blob_batches.BlobPosting, batch: int, commitment: int, header: blob_batches.BlobHeader
) -> blob_batches.BlobPosting:
    """`posting` with one header replaced and the blobs kept: calldata and payload offsets
    follow the headers (as the contract derives them); the payload is the honest one."""
    out, at = [], 0
    for k, b in enumerate(posting.batches):
        headers = list(b.headers)
        if k == batch:
            headers[commitment] = header
        nb = blob_batches.BlobBatch(tuple(headers), at)
        out.append(nb)
        at += nb.payload_length
    data = b"".join(bytes([len(b.headers)]) + b.header_bytes() for b in out)
    return blob_batches.BlobPosting(data, posting.payload, tuple(out))


def blob_rest_hash_mismatch(
    posting: blob_batches.BlobPosting, batch: int = 0, commitment: int = 0
) -> blob_batches.BlobPosting:
    """A header whose restHash is not the hash of what the blobs hold for it (the counts and
    the blobs stay honest): the blob dispute's first case."""
    h = posting.batches[batch].headers[commitment]
    return _reheaded(
        posting, batch, commitment, dataclasses.replace(h, rest_hash=keccak(b"not" + h.rest_hash))
    )


def blob_counts_mismatch(
    posting: blob_batches.BlobPosting, batch: int = 0, commitment: int = 0
) -> blob_batches.BlobPosting:
    """A header whose counts differ from the counts the blob rest starts with (one transfer
    more, or one fewer when full), with a restHash that *does* hash what the blobs hold at the
    range those counts give: only the counts rule catches it."""
    h = posting.batches[batch].headers[commitment]
    d, t, w, f = h.counts
    counts = bytes([d, t + 1 if d + t + w + f < 32 else t - 1, w, f])
    probe = _reheaded(posting, batch, commitment, dataclasses.replace(h, counts=counts))
    nb = probe.batches[batch]
    read = blob_batches.extract(
        posting.blobs(), nb.rest_offsets()[commitment], nb.headers[commitment].rest_length
    )
    forged = dataclasses.replace(h, counts=counts, rest_hash=keccak(read))
    return _reheaded(posting, batch, commitment, forged)
