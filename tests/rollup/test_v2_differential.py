"""Format v2, Python against Solidity: the shared vectors (tests/rollup/vectors/rollup_v2.json,
written by offchain.rollup.vectors) hold on chain, random commitments decode, hash and execute
the same on both sides, and the constants and fault codes of the compiled contracts equal
Python's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offchain.bls import g1_words, g2_words
from offchain.rollup import params
from offchain.rollup.codec import decode_batch, encode_amount, encode_fee, encode_rest
from offchain.rollup.execute import Fault, commit, execute, first_malformed
from offchain.rollup.hashes import batch_hash
from offchain.rollup.proofs import fraud_proof
from offchain.rollup.state import L2State
from offchain.rollup.types import (
    Account,
    Commitment,
    DepositTx,
    ForcedSlot,
    QueuedDeposit,
    QueuedForced,
    Transfer,
    Withdraw,
)
from offchain.rollup.vectors import VECTOR_FILE, build_vectors

V = json.loads(VECTOR_FILE.read_text())
BUILD = Path(__file__).resolve().parents[2] / ".build" / "__local__.json"


def h(x: str) -> bytes:
    return bytes.fromhex(x[2:] if x.startswith("0x") else x)


@pytest.fixture(scope="module")
def bls_harness(project, accounts):
    return accounts[0].deploy(project.BLSHarness)


@pytest.fixture(scope="module")
def view_rollup(project, accounts):
    """A deployed Rollup, for its pure views (commitmentHash) and constants."""
    d = accounts[0]
    registry = d.deploy(project.BLSKeyRegistry, 3)
    bridge = d.deploy(project.L1Bridge, b"\x01")
    return d.deploy(project.Rollup, bridge, 10**18, 3600, 86_400, 30 * 86_400, registry)


def test_python_reproduces_the_vectors():
    assert build_vectors() == V


def test_constants_equal_the_compiled_contracts(harness, view_rollup):
    c = harness.constants()
    assert list(c) == [
        params.FORMAT_VERSION,
        params.DEPOSIT_LEN,
        params.TRANSFER_LEN,
        params.WITHDRAW_LEN,
        params.FORCED_LEN,
        params.HEADER_LEN - 32,
        params.SIGNATURE_LEN,
        params.MAX_TXS_PER_COMMITMENT,
        60,
        params.MAX_BALANCE,
        params.TX_TRANSFER,
        params.TX_WITHDRAW,
        params.FORCED_TRANSFER_TX_LEN,
        params.FORCED_WITHDRAW_TX_LEN,
        len(Fault),
    ]
    assert view_rollup.FORMAT_VERSION() == params.FORMAT_VERSION == V["formatVersion"]
    assert view_rollup.HEADER_LEN() == params.HEADER_LEN
    assert view_rollup.MAX_COMMITMENTS() == params.MAX_COMMITMENTS_PER_BATCH
    assert view_rollup.MAX_TXS_PER_COMMITMENT() == params.MAX_TXS_PER_COMMITMENT


def test_fault_codes_equal_the_compiled_enum():
    """The Fault enum as compiled (the source text the build recorded) names Python's codes in
    the same order; the count is also read from the bytecode (constants() above)."""
    sources = json.loads(BUILD.read_text())["sources"]
    text = sources["contracts/rollup/RollupTypes.sol"]["content"]
    body = re.search(r"enum Fault \{([^}]*)\}", text)
    assert body is not None
    names = [n.strip() for n in body.group(1).split(",") if n.strip()]
    assert names == [f.name for f in Fault]


def test_amounts_and_fees_decode_alike(harness):
    for a in V["amounts"] + V["nonCanonicalAmounts"] + V["malformedAmounts"]:
        assert harness.unpackAmount(int(a["packed"], 16)) == int(a["value"])
    for a in V["amounts"]:
        assert encode_amount(int(a["value"])).hex() == a["packed"]
    for f in V["fees"]:
        assert harness.unpackFloat(int(f["packed"], 16)) == int(f["value"])
        assert encode_fee(int(f["value"])).hex() == f["packed"]


def test_commitment_and_batch_hash_alike(view_rollup, harness):
    c = V["commitment"]
    rest = h(c["rest"])
    assert keccak(rest).hex() == c["restHash"]
    got = view_rollup.commitmentHash(
        h(c["postRoot"]), c["depositEnd"], c["forcedEnd"], keccak(rest)
    )
    assert bytes(got).hex() == c["hash"]
    b = V["batch"]
    cs = decode_batch(h(b["data"]), b["depositStart"], b["forcedStart"])
    on_chain = [
        bytes(
            view_rollup.commitmentHash(x.post_root, x.deposit_end, x.forced_end, keccak(x.rest()))
        )
        for x in cs
    ]
    assert on_chain == [x.hash() for x in cs]
    assert batch_hash(on_chain).hex() == b["hash"]
    lay = harness.layout(rest)
    assert (lay.nDeposits, lay.nTransfers, lay.nWithdraws, lay.nForced) == tuple(rest[:4])
    assert lay.length == len(rest)


def test_aggregate_of_the_vector_messages_verifies_on_chain(bls_harness):
    """The vector commitment's aggregate, over the vector messages under the signers' keys
    (one key per message), verifies with BLS.verifyAggregate; a message changed does not."""
    keys = {k["owner"]: h(k["publicKey"]) for k in V["keys"]}
    owner_of = {s["index"]: s["account"][:40] for s in V["signers"]}
    messages = [h(m["message"]) for m in V["messages"]]
    pks = [g2_words(keys["0x" + owner_of[m["sender"]]]) for m in V["messages"]]
    sig = g1_words(h(V["aggregate"]["eip2537"]))
    dst = h(V["dst"])
    assert bls_harness.verifyAggregate(messages, pks, sig, dst)
    tampered = [messages[0][:-1] + bytes([messages[0][-1] ^ 1]), *messages[1:]]
    assert not bls_harness.verifyAggregate(tampered, pks, sig, dst)


def _pre_state() -> L2State:
    s = L2State(deposit_end=V["preState"]["depositEnd"], forced_end=V["preState"]["forcedEnd"])
    for a in V["preState"]["accounts"]:
        acc = Account(a["owner"], a["token"], int(a["balance"]), a["nonce"])
        s.accounts[a["index"]] = acc
        s.tree.set_leaf(a["index"], acc.leaf_hash())
    return s


def test_vector_batch_executes_alike(harness):
    """The state dispute's executor (RollupHarness.execute) runs the vector commitment on the
    vector pre-state with Python's witnesses and reaches the same post-root, fault NONE."""
    pre = _pre_state()
    assert pre.root.hex() == V["preState"]["root"]
    b = V["batch"]
    cs = decode_batch(h(b["data"]), b["depositStart"], b["forcedStart"])
    deps = [
        QueuedDeposit(d["index"], d["token"], int(d["amount"]), d["owner"]) for d in V["deposits"]
    ]
    forced = [QueuedForced(f["index"], f["sender"], h(f["l2tx"])) for f in V["forced"]]
    ex = execute(pre, cs[0], deps, forced)
    assert ex.ok
    proof = fraud_proof(0, cs, 0, deps, ex, forced)
    fault, _, root = harness.execute(pre.root, proof.as_abi())
    assert (int(fault), bytes(root)) == (0, cs[0].post_root)
    commit(pre, ex, cs[0].deposit_end)
    for a in V["postState"]["accounts"]:
        assert pre.account(a["index"]).packed().hex() == a["packed"]


# ------------------------------------------------------------------ random commitments

_amount = st.one_of(st.integers(0, 10**20), st.integers(0, params.MAX_BALANCE))
_fee = st.sampled_from([0, 1, 7, 2000, 10**15])
_idx = st.integers(0, 5)


def _packable(v: int) -> int:
    """The nearest value the 4-byte amount encodes (Transfer takes only packable values)."""
    for e in range(32):
        if v // 10**e < (1 << 27):
            return (v // 10**e) * 10**e
    raise AssertionError


@st.composite
def commitments(draw):
    nd = draw(st.integers(0, 3))
    nt = draw(st.integers(0, 6))
    nw = draw(st.integers(0, 4))
    nf = draw(st.integers(0, 3))
    transfers = [
        Transfer(draw(_idx), draw(_idx), _packable(draw(_amount)), draw(_fee)) for _ in range(nt)
    ]
    withdraws = [Withdraw(draw(_idx), _packable(draw(_amount)), draw(_fee)) for _ in range(nw)]
    forced = [ForcedSlot(draw(st.booleans())) for _ in range(nf)]
    c = Commitment(
        draw(st.binary(min_size=32, max_size=32)),
        10 + nd,
        20 + nf,
        draw(_idx),
        deposits=[DepositTx(draw(_idx)) for _ in range(nd)],
        transfers=transfers,
        withdraws=withdraws,
        forced=forced,
        signature=draw(st.binary(min_size=48, max_size=48)) if nt + nw else b"",
    )
    rest = bytearray(encode_rest(c))
    lay_transfers = 7 + len(c.signature) + 3 * nd
    if nt and draw(st.booleans()):  # an amount above 2^128-1 (mantissa 2^27-1, exponent 31)
        k = draw(st.integers(0, nt - 1))
        at = lay_transfers + 12 * k + 6
        rest[at : at + 4] = b"\xff\xff\xff\xff"
    if nf and draw(st.booleans()):  # an outcome byte other than 0/1
        rest[-draw(st.integers(1, nf))] = draw(st.integers(2, 255))
    (decoded,) = decode_batch(c.post_root + bytes(rest), c.deposit_start, c.forced_start)
    return decoded


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(c=commitments())
def test_random_commitments_decode_and_hash_alike(harness, view_rollup, c):
    rest = c.rest()
    got = view_rollup.commitmentHash(c.post_root, c.deposit_end, c.forced_end, keccak(rest))
    assert bytes(got) == c.hash()
    lay = harness.layout(rest)
    assert (lay.nDeposits, lay.nTransfers, lay.nWithdraws, lay.nForced, lay.feeAccount) == (
        len(c.deposits),
        len(c.transfers),
        len(c.withdraws),
        len(c.forced),
        c.fee_account,
    )
    assert lay.length == len(rest)
    for i, t in enumerate(c.transfers):
        assert tuple(harness.transferAt(rest, lay.transfers + 12 * i)) == (
            t.sender,
            t.recipient,
            t.amount,
            t.fee,
        )
    for i, w in enumerate(c.withdraws):
        assert tuple(harness.withdrawAt(rest, lay.withdraws + 9 * i)) == (w.sender, w.amount, w.fee)
    bad = first_malformed(c)
    assert harness.firstMalformed(rest) == (2**256 - 1 if bad is None else bad)
