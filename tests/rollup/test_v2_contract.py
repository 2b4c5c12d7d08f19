"""Rollup format v2 (issue 11) on Anvil, Solidity side: posting framing and hashes, forced txs
bound to their L1 sender, the state dispute without signatures, withdrawals from v2 data, and the
posting cost per transfer (printed; bench/rollup.py takes it over at integration)."""

from __future__ import annotations

import random

import ape
import pytest
from eth_utils import keccak
from support.reverts import call_reverts
from v2_helpers import (
    ACTIVATION_DELAY,
    BOND,
    Built,
    batch_hash,
    commitment_hash,
    deploy,
    encode_amount,
    encode_fee,
    idx,
    rest_bytes,
    transfer_bytes,
    withdraw_bytes,
)

from offchain.bls import SecretKey

E19 = 10**19
MALFORMED, OVERSPEND, WRONG_ROOT, FORCED_OUTCOME = 1, 3, 8, 12
SIG = bytes([0xC0]) + bytes(47)  # any 48 bytes: the state dispute never reads the signature


@pytest.fixture
def c(project, chain, accounts):
    """Accounts 0..3 owned by L1 accounts 1..4, 10 ETH each, keys registered."""
    c = deploy(project, chain, accounts)
    owners = [accounts[i + 1].address.lower() for i in range(4)]
    for i in range(4):
        c.register(accounts[i + 1], SecretKey(20_000 + i))
        c.deposit(accounts[0], owners[i], E19)
    c.mine(ACTIVATION_DELAY)
    c.post([c.world.commit(deposits=[(i, owners[i], E19) for i in range(4)])])
    return c


def fraud_proof(batch: int, built: list[Built], ci: int, prev: tuple | None = None) -> tuple:
    b = built[ci]
    p = prev or (b"\0" * 32, 0, 0, b"\0" * 32)
    return (
        batch,
        [x.hash for x in built],
        ci,
        p,
        b.post_root,
        b.deposit_end,
        b.forced_end,
        b.rest,
        b.deposits,
        b.witnesses,
        b.forced,
    )


def fault_of(c, receipt) -> int:
    (log,) = list(receipt.decode_logs(c.rollup.FraudProven))
    return int(log.fault)


# ------------------------------------------------------------------------------- codec


def test_amount_fee_and_layout_readers(project, accounts):
    h = accounts[0].deploy(project.RollupHarness)
    for v in (0, 1, 10**18, 123_450_000, (2**27 - 1) * 10**11, 2**27 - 1):
        assert h.unpackAmount(int.from_bytes(encode_amount(v), "big")) == v
    assert h.unpackAmount(((2**27 - 1) << 5) | 31) == (2**27 - 1) * 10**31  # > 2^128: MALFORMED
    assert h.unpackFloat(int.from_bytes(encode_fee(2000), "big")) == 2000
    rest = rest_bytes(
        7, [5], [transfer_bytes(1, 2, 10**18, 1000)], [withdraw_bytes(3, 5, 0)], [1, 0], SIG
    )
    lay = h.layout(rest)
    assert tuple(lay)[:5] == (1, 1, 1, 2, 7)
    assert lay.deposits == 55 and lay.transfers == 58 and lay.withdraws == 70
    assert lay.forced == 79 and lay.length == 81 == len(rest)
    assert h.transferAt(rest, 58) == (1, 2, 10**18, 1000)
    assert h.withdrawAt(rest, 70) == (3, 5, 0)
    assert h.firstMalformed(rest) == 2**256 - 1
    assert (
        h.firstMalformed(rest[:-1] + b"\x02") == 4
    )  # slot order: deposit, transfer, withdraw, forced
    no_sig = rest_bytes(0, [1, 2], [], [], [])
    assert h.layout(no_sig).deposits == 7 and h.layout(no_sig).length == 13


# ----------------------------------------------------------------------------- posting


def test_posting_records_hashes_counts_and_block(c, chain):
    a = c.world.commit(transfers=[(1, 2, 10**18, 1000)], withdraws=[(2, 10**17, 0)])
    b = c.world.commit(transfers=[(0, 3, 5, 0)])
    batch, receipt = c.post([a, b])
    stored = c.rollup.batches(batch)
    assert bytes(stored.batchHash) == batch_hash([a.hash, b.hash])
    assert bytes(stored.postRoot) == b.post_root
    assert stored.depositEnd == 4 and stored.forcedEnd == 0
    assert stored.postedBlock == receipt.block_number
    assert bytes(
        c.rollup.commitmentHash(a.post_root, a.deposit_end, a.forced_end, keccak(a.rest))
    ) == commitment_hash(a.post_root, 4, 0, a.rest)
    assert c.rollup.FORMAT_VERSION() == 2 and c.rollup.HEADER_LEN() == 39


def test_framing_reverts(c, accounts):
    root = c.rollup.head()[0]
    one = bytes(root) + rest_bytes(0, [], [transfer_bytes(1, 2, 1, 0)], [], [], SIG)
    too_many = bytes(root) + rest_bytes(0, [], [transfer_bytes(1, 2, 1, 0)] * 33, [], [], SIG)
    cases = [
        b"",  # no commitment
        one[:-1],  # cut short
        one + b"\0",  # bytes left over
        one[:38],  # header cut short
        too_many,  # 33 slots
        one * 65,  # 65 commitments
    ]
    for data in cases:
        call_reverts(c.rollup, "MalformedBatch", "postBatch", root, data, sender=c.proposer)
    deposit = bytes(root) + rest_bytes(0, [9], [], [], [])
    call_reverts(c.rollup, "DepositsNotQueued", "postBatch", root, deposit, sender=c.proposer)
    forced = bytes(root) + rest_bytes(0, [], [], [], [1])
    call_reverts(c.rollup, "ForcedNotQueued", "postBatch", root, forced, sender=c.proposer)
    assert c.rollup.postBatch(root, one * 64, sender=c.proposer)  # 64 commitments are fine


def test_constructor_needs_a_registry(project, accounts):
    bridge = accounts[0].deploy(project.L1Bridge, b"\x01")
    with ape.reverts(project.Rollup.BadParameter):
        accounts[0].deploy(project.Rollup, bridge, BOND, 1, 1, 1, "0x" + "00" * 20)


# -------------------------------------------------------------------------- forced txs


def test_force_transaction_v2_binds_the_sender(c, accounts):
    transfer = b"\x02" + transfer_bytes(1, 2, 10**18, 0)
    withdraw = b"\x03" + withdraw_bytes(1, 10**18, 0)
    r1 = c.rollup.forceTransaction(transfer, sender=accounts[2])
    c.rollup.forceTransaction(withdraw, sender=accounts[5])
    (log,) = list(r1.decode_logs(c.rollup.TransactionForced))
    assert log.index == 0 and log.account == 1 and log.sender == accounts[2].address
    acc1 = keccak(b"\0" * 32 + bytes.fromhex(accounts[2].address[2:]) + transfer)
    assert bytes(c.rollup.forcedAccAt(1)) == acc1 == bytes(log.accumulator)
    acc2 = keccak(acc1 + bytes.fromhex(accounts[5].address[2:]) + withdraw)
    assert bytes(c.rollup.forcedAccAt(2)) == acc2
    for bad in (
        b"",
        transfer[:-1],
        transfer + b"\0",
        withdraw[:-1],
        b"\x04" + transfer[1:],
        b"\x01",
    ):
        call_reverts(c.rollup, "BadForcedTx", "forceTransaction", bad, sender=accounts[2])


# ---------------------------------------------------------------------- state dispute


def _full_commitment(c, accounts) -> Built:
    """Every section: a deposit, transfers with fees, a withdraw, forced entries applied (owner
    sender) and skipped (wrong sender, overspend)."""
    owner2 = accounts[3].address
    own = b"\x02" + transfer_bytes(2, 1, 10**18, 5000)
    stranger = b"\x03" + withdraw_bytes(2, 10**18, 0)
    too_much = b"\x03" + withdraw_bytes(1, 10**20, 0)
    c.rollup.forceTransaction(own, sender=accounts[3])
    c.rollup.forceTransaction(stranger, sender=accounts[6])
    c.rollup.forceTransaction(too_much, sender=accounts[2])
    c.deposit(accounts[0], accounts[1].address.lower(), 10**18)
    return c.world.commit(
        fee_account=0,
        deposits=[(0, accounts[1].address.lower(), 10**18)],
        transfers=[(1, 2, 10**18, 1000), (3, 1, 2 * 10**18, 2000)],
        withdraws=[(2, 10**17, 0)],
        forced=[(owner2, own), (accounts[6].address, stranger), (accounts[2].address, too_much)],
    )


def test_honest_v2_commitment_is_not_fraudulent(c, accounts):
    built = _full_commitment(c, accounts)
    assert built.rest[-3:] == bytes([1, 0, 0])
    assert c.world.acc(2).nonce == 1  # the withdraw bumped it, the forced transfer did not
    batch, _ = c.post([built])
    call_reverts(
        c.rollup, "NotFraudulent", "proveFraud", fraud_proof(batch, [built], 0), sender=accounts[9]
    )


def test_wrong_root_is_proven(c, accounts):
    built = _full_commitment(c, accounts)
    built.post_root = keccak(b"lie")
    batch, _ = c.post([built])
    receipt = c.rollup.proveFraud(fraud_proof(batch, [built], 0), sender=accounts[9])
    assert fault_of(c, receipt) == WRONG_ROOT
    assert c.rollup.batchCount() == batch


def test_forced_outcome_lie_is_proven(c, accounts):
    built = _full_commitment(c, accounts)
    built.rest = built.rest[:-2] + b"\x01\x00"  # claims the stranger's withdraw applied
    # Execution stops at that slot: deposit 1, transfers 4, withdraw 1, forced 2 + 1 accesses.
    built.witnesses = built.witnesses[: 9 * 828]
    batch, _ = c.post([built])
    assert (
        fault_of(c, c.rollup.proveFraud(fraud_proof(batch, [built], 0), sender=accounts[9]))
        == FORCED_OUTCOME
    )


def test_overspend_and_second_commitment_are_proven(c, accounts):
    first = c.world.commit(transfers=[(1, 2, 10**18, 0)])
    w = c.world.witness(1)
    rest = rest_bytes(0, [], [transfer_bytes(1, 2, 10**20, 0)], [], [], SIG)
    second = Built(keccak(b"x"), first.deposit_end, first.forced_end, rest, w, [], [])
    batch, _ = c.post([first, second])
    prev = (first.post_root, first.deposit_end, first.forced_end, keccak(first.rest))
    proof = fraud_proof(batch, [first, second], 1, prev)
    assert fault_of(c, c.rollup.proveFraud(proof, sender=accounts[9], gas=5_000_000)) == OVERSPEND
    bad_prev = (first.post_root, first.deposit_end, first.forced_end, keccak(b"other"))
    batch, _ = c.post([first, second])
    bad_link = fraud_proof(batch, [first, second], 1, bad_prev)
    call_reverts(c.rollup, "CommitmentMismatch", "proveFraud", bad_link, sender=accounts[9])


def test_undecodable_outcome_is_malformed_without_witnesses(c, accounts):
    c.rollup.forceTransaction(b"\x03" + withdraw_bytes(1, 1, 0), sender=accounts[2])
    rest = rest_bytes(0, [], [], [], [2])
    sender = accounts[2].address
    built = Built(
        c.world.root(), 4, 1, rest, b"", [], [(sender, b"\x03" + withdraw_bytes(1, 1, 0))]
    )
    batch, _ = c.post([built])
    proof = fraud_proof(batch, [built], 0)
    assert fault_of(c, c.rollup.proveFraud(proof, sender=accounts[9])) == MALFORMED


def test_forced_evidence_must_name_the_sender(c, accounts):
    built = _full_commitment(c, accounts)
    batch, _ = c.post([built])
    forged = list(built.forced)
    forged[1] = (accounts[3].address, forged[1][1])  # claim the owner queued it
    proof = list(fraud_proof(batch, [built], 0))
    proof[10] = forged
    call_reverts(c.rollup, "ForcedEvidenceMismatch", "proveFraud", tuple(proof), sender=accounts[9])


def test_missing_and_unused_witnesses_revert(c, accounts):
    built = _full_commitment(c, accounts)
    built.post_root = keccak(b"lie")
    batch, _ = c.post([built])
    proof = list(fraud_proof(batch, [built], 0))
    proof[9] = built.witnesses[:-828]
    call_reverts(c.rollup, "MissingWitness", "proveFraud", tuple(proof), sender=accounts[9])
    proof[9] = built.witnesses + built.witnesses[:828]
    call_reverts(c.rollup, "UnusedWitness", "proveFraud", tuple(proof), sender=accounts[9])


# ------------------------------------------------------------------------- withdrawals


def test_withdrawals_from_v2_data(c, accounts, chain):
    own = b"\x03" + withdraw_bytes(2, 3 * 10**18, 0)
    c.rollup.forceTransaction(own, sender=accounts[3])
    built = c.world.commit(
        transfers=[(1, 2, 10**18, 0)],
        withdraws=[(1, 2 * 10**18, 0)],
        forced=[(accounts[3].address, own)],
    )
    batch, _ = c.post([built])
    chain.pending_timestamp += 3601
    chain.mine()

    def proof(tx_index, account, forced_sender="0x" + "00" * 20, forced_tx=b""):
        return (
            batch,
            [built.hash],
            0,
            built.post_root,
            built.deposit_end,
            built.forced_end,
            built.rest,
            tx_index,
            c.world.acc(account).packed(),
            b"".join(c.world.tree.proof(account)),
            forced_sender,
            forced_tx,
        )

    r = c.rollup.finalizeWithdrawal(proof(1, 1), sender=accounts[9])
    (log,) = list(r.decode_logs(c.rollup.WithdrawalFinalized))
    assert log.amount == 2 * 10**18 and log.owner == accounts[2].address
    r = c.rollup.finalizeWithdrawal(proof(2, 2, accounts[3].address, own), sender=accounts[9])
    (log,) = list(r.decode_logs(c.rollup.WithdrawalFinalized))
    assert log.amount == 3 * 10**18 and log.owner == accounts[3].address
    for bad in (
        proof(0, 1),
        proof(3, 1),
        proof(2, 2, accounts[4].address, own),
        proof(1, 1, accounts[3].address, own),
    ):
        call_reverts(c.rollup, "NotAWithdrawal", "finalizeWithdrawal", bad, sender=accounts[9])


# --------------------------------------------------------------------------- posting cost


def _random_commitment(rng: random.Random, root: bytes, n: int) -> bytes:
    transfers = []
    for _ in range(n):
        amount = rng.randrange(1, 10**4) * 10 ** rng.randrange(12, 18)
        transfers.append(
            idx(rng.randrange(2**16))
            + idx(rng.randrange(2**16))
            + encode_amount(amount)
            + encode_fee(rng.choice([0, 1000, 20000]))
        )
    sig = bytes([0x80 | rng.randrange(32)]) + rng.randbytes(47)
    return root + rest_bytes(rng.randrange(2**16), [], transfers, [], [], sig)


def test_posting_cost_per_transfer(c):
    """L1 gas per transfer of postBatch (receipt gas, EIP-7623 floor in), 32 per commitment."""
    rng = random.Random(11)
    figures = {}
    for total in (1, 32, 256, 1024):
        root = bytes(c.rollup.head()[0])
        per = min(total, 32)
        data = b"".join(_random_commitment(rng, root, per) for _ in range(total // per))
        receipt = c.rollup.postBatch(root, data, sender=c.proposer)
        figures[total] = (receipt.gas_used / total, len(data) / total)
    print("\nposting v2: transfers -> (L1 gas per transfer, bytes per transfer)", figures)
    assert figures[1024][0] <= 700
    assert figures[1024][1] <= 16


@pytest.mark.slow
def test_state_dispute_worst_case_gas(project, chain, accounts):
    """32 fee-paying transfers between 32 accounts (65 leaf accesses), wrong root at the end:
    the whole commitment is re-executed."""
    c = deploy(project, chain, accounts)
    owners = [accounts[k % 8 + 1].address.lower() for k in range(32)]
    for o in owners:
        c.deposit(accounts[0], o, E19)
    c.post([c.world.commit(deposits=[(k, owners[k], E19) for k in range(32)])])
    for k in range(8):
        c.world.secrets[accounts[k + 1].address.lower()] = SecretKey(30_000 + k)
    built = c.world.commit(transfers=[(k, (k + 1) % 32, 10**18, 1000) for k in range(32)])
    built.post_root = keccak(b"lie")
    batch, _ = c.post([built])
    receipt = c.rollup.proveFraud(fraud_proof(batch, [built], 0), sender=accounts[9])
    assert fault_of(c, receipt) == WRONG_ROOT
    print(f"\nstate dispute, 32 transfers (65 witnesses): {receipt.gas_used} gas")
    assert receipt.gas_used <= 3_000_000


def test_bad_and_non_canonical_witnesses_revert(c, accounts):
    built = _full_commitment(c, accounts)
    built.post_root = keccak(b"lie")
    batch, _ = c.post([built])
    proof = list(fraud_proof(batch, [built], 0))
    w = bytearray(built.witnesses)
    w[59] ^= 1  # the first witness's nonce: its leaf no longer proves
    proof[9] = bytes(w)
    call_reverts(c.rollup, "BadWitness", "proveFraud", tuple(proof), sender=accounts[9])


def test_non_canonical_empty_leaf_reverts(c, accounts):
    rest = rest_bytes(0, [], [transfer_bytes(1, 20, 1, 0)], [], [], SIG)
    w1 = c.world.witness(1)
    empty = bytes(40) + (5).to_bytes(16, "big") + bytes(4) + b"".join(c.world.tree.proof(20))
    bad = Built(keccak(b"y"), c.world.deposit_end, c.world.forced_end, rest, w1 + empty, [], [])
    batch, _ = c.post([bad], pre_root=c.rollup.head()[0])
    call_reverts(
        c.rollup,
        "NonCanonicalEmptyLeaf",
        "proveFraud",
        fraud_proof(batch, [bad], 0),
        sender=accounts[9],
    )
