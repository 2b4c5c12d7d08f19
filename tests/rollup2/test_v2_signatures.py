"""Format v2 signatures: messages, the post-state nonce rule, the aggregate check per case
(good, one bad among many, missing key, ruled-out signers, replay across chain / rollup /
nonce / sender), batched admission checks, the wallet, and an adversarial commitment whose
state is valid but one signature is swapped."""

import json

import pytest
from eth_account import Account as EthAccount
from format_v2_helpers import (
    DST,
    KEYS,
    OWNERS,
    SKS,
    build,
    keys_at,
    make_state,
    post_state,
    signed_for,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.bls import SecretKey, derive_secret_key_from_account, sign, signing_dst, verify
from offchain.rollup.execute import Fault
from offchain.rollup.messages import transfer_message, tx_message, withdraw_message
from offchain.rollup.signatures import (
    PendingSignature,
    aggregate_commitment,
    check_commitment_signature,
    commitment_messages,
    find_bad_signatures,
    signature_from_bytes,
    signed_nonces,
    signers,
)
from offchain.rollup.types import Account, Commitment, SignedTransfer, Transfer, Withdraw
from offchain.rollup.vectors import VECTOR_FILE
from offchain.rollup.wallet import derive_key, sign_transfer, sign_withdraw

V = json.loads(VECTOR_FILE.read_text())


def with_signature(c: Commitment, sig: bytes) -> Commitment:
    return Commitment(
        c.post_root,
        c.deposit_end,
        c.forced_end,
        c.fee_account,
        c.deposits,
        c.transfers,
        c.withdraws,
        c.forced,
        sig,
    )


def honest(n_transfers=6, n_withdraws=2, repeat=True):
    s = make_state()
    ts = [
        ((i // 2 if repeat else i) % 30, 31 + i % 5, 10**15 + i * 10**12, i % 3)
        for i in range(n_transfers)
    ]
    ws = [(35 + i, 10**14, 0) for i in range(n_withdraws)]
    signed = signed_for(s, ts, ws)
    c, ex = build(s, signed=signed)
    assert ex.ok
    return s, c, post_state(s, c), signed


def test_message_layout():
    t = Transfer(7, 9, 123_450_000, 2000)
    m = transfer_message(t, 5)
    assert len(m) == 45
    assert m.hex() == (
        "00000007"
        "00000005"
        "02"
        "00000009" + (123_450_000).to_bytes(16, "big").hex() + (2000).to_bytes(16, "big").hex()
    )
    w = Withdraw(7, 10**18, 0)
    m = withdraw_message(w, 2**32 - 1)
    assert len(m) == 41
    assert m.hex() == "00000007ffffffff03" + (10**18).to_bytes(16, "big").hex() + "00" * 16
    with pytest.raises(ValueError, match="uint128"):
        transfer_message(Transfer(0, 1, ((1 << 27) - 1) * 10**31, 0), 0)
    for v in V["messages"]:
        assert len(bytes.fromhex(v["message"])) == (45 if v["kind"] == "transfer" else 41)


def test_vectors_messages_keys_and_aggregate():
    dst = signing_dst(V["chainId"], V["rollup"])
    assert dst.hex() == V["dst"]
    keys = {k["owner"]: SecretKey(int(k["secret"], 16)) for k in V["keys"]}
    for k in V["keys"]:
        pk = keys[k["owner"]].public_key()
        assert pk.eip2537().hex() == k["publicKey"]
        assert pk.compressed.hex() == k["publicKeyCompressed"]
    sigs = [signature_from_bytes(bytes.fromhex(m["signature"])) for m in V["messages"]]
    for m, sig in zip(V["messages"], sigs, strict=True):
        assert sig.eip2537().hex() == m["signatureEip2537"]
    agg = aggregate_commitment(
        [SignedTransfer(Transfer(0, 0, 0, 0), bytes.fromhex(m["signature"])) for m in V["messages"]]
    )
    assert agg.hex() == V["aggregate"]["compressed"]
    assert signature_from_bytes(agg).eip2537().hex() == V["aggregate"]["eip2537"]
    # sender 0 signed twice: nonces 3 then 4 (post-state nonce 5)
    assert [(m["sender"], m["nonce"]) for m in V["messages"]] == [(0, 3), (0, 4), (2, 0), (1, 0)]


def test_nonce_rule_from_the_post_state():
    s = make_state()
    signed = signed_for(s, [(4, 1, 5, 0), (2, 1, 5, 0), (4, 2, 5, 0)], [(4, 1, 0)])
    c, _ex = build(s, signed=signed)
    post = post_state(s, c)
    start = s.account(4).nonce
    assert post.account(4).nonce == start + 3
    assert signed_nonces(c, post) == [start, s.account(2).nonce, start + 1, start + 2]
    assert signers(c) == [4, 2]
    msgs = commitment_messages(c, post)
    assert [o for o, _ in msgs] == [OWNERS[4], OWNERS[2], OWNERS[4], OWNERS[4]]
    assert check_commitment_signature(c, post, keys_at, DST) == Fault.NONE


def test_good_commitment_and_unsigned_commitment():
    _s, c, post, _ = honest()
    assert check_commitment_signature(c, post, keys_at, DST) == Fault.NONE
    empty = Commitment(post.root, 0, 0, 0)
    assert check_commitment_signature(empty, post, keys_at, DST) == Fault.NONE


def test_one_bad_signature_among_many_is_found():
    s = make_state()
    ts = [(i, 30 + i % 8, 10**15, 0) for i in range(32)]
    signed = signed_for(s, ts)
    bad = 17
    t = signed[bad].tx
    signed[bad] = SignedTransfer(
        t,
        sign(
            SKS[bad],
            transfer_message(
                Transfer(t.sender, t.recipient, t.amount + 1, t.fee), s.account(bad).nonce
            ),
            DST,
        ).compressed,
    )
    c, ex = build(s, signed=signed)
    assert ex.ok  # the state transition is fine
    post = post_state(s, c)
    assert check_commitment_signature(c, post, keys_at, DST) == Fault.BAD_SIGNATURE
    pending = [
        PendingSignature(x, s.account(x.tx.sender).nonce, KEYS[OWNERS[x.tx.sender]]) for x in signed
    ]
    assert find_bad_signatures(pending, DST) == [bad]
    del pending[bad]
    assert find_bad_signatures(pending, DST) == []


def test_missing_key_and_ruled_out_signers():
    _s, c, post, _ = honest()
    first = post.account(signers(c)[0]).owner
    assert (
        check_commitment_signature(c, post, lambda o: None if o == first else keys_at(o), DST)
        == Fault.NO_KEY
    )
    # a sender whose account is empty in the post-state, or whose nonce is below its count
    gone = post.copy()
    gone.accounts[signers(c)[1]] = Account.EMPTY
    assert check_commitment_signature(c, gone, keys_at, DST) == Fault.NO_ACCOUNT
    low = post.copy()
    a = low.account(signers(c)[0])
    low.accounts[signers(c)[0]] = Account(a.owner, a.token, a.balance, 1)  # two signed txs
    assert check_commitment_signature(c, low, keys_at, DST) == Fault.BAD_SIGNATURE
    # a key of the wrong owner makes the aggregate fail
    assert (
        check_commitment_signature(c, post, lambda o: KEYS[OWNERS[0]], DST) == Fault.BAD_SIGNATURE
    )


@pytest.mark.parametrize("kind", ["chain", "rollup", "nonce", "sender"])
def test_replay_is_refused(kind):
    s = make_state()
    nonce = s.account(3).nonce
    t = Transfer(3, 4, 10**15, 7)
    if kind == "chain":
        sig = sign(SKS[3], transfer_message(t, nonce), signing_dst(1, "0x" + "42" * 20))
    elif kind == "rollup":
        sig = sign(SKS[3], transfer_message(t, nonce), signing_dst(31337, "0x" + "43" * 20))
    elif kind == "nonce":
        sig = sign(SKS[3], transfer_message(t, nonce + 1), DST)
    else:  # the same key signed this transfer for another sender index it also controls
        sig = sign(SKS[3], transfer_message(Transfer(5, 4, 10**15, 7), nonce), DST)
    forged = SignedTransfer(t, sig.compressed)
    c, ex = build(s, signed=[forged])
    assert ex.ok
    assert check_commitment_signature(c, post_state(s, c), keys_at, DST) == Fault.BAD_SIGNATURE
    assert find_bad_signatures([PendingSignature(forged, nonce, KEYS[OWNERS[3]])], DST) == [0]
    good = sign_transfer(SKS[3], DST, 3, 4, 10**15, 7, nonce)
    assert find_bad_signatures([PendingSignature(good, nonce, KEYS[OWNERS[3]])], DST) == []


def test_undecodable_or_identity_aggregate_is_a_bad_signature():
    _s, c, post, _ = honest()
    not_a_point = bytes([0x9A]) + bytes(47)  # compressed flag, x not on the curve
    identity = bytes([0xC0]) + bytes(47)
    for sig in (not_a_point, identity, bytes(48), b"\xff" * 48):
        assert check_commitment_signature(with_signature(c, sig), post, keys_at, DST) == (
            Fault.BAD_SIGNATURE
        )


def test_adversarial_valid_state_with_one_swapped_signature_is_detected():
    """The operator posts a commitment that executes correctly (root, nonces, balances all
    right) but swaps one user's signature for another valid signature of the same user (over
    another of its own messages): only the signature check sees it."""
    _s, c, post, signed = honest(n_transfers=8, n_withdraws=2)
    assert check_commitment_signature(c, post, keys_at, DST) == Fault.NONE
    nonces = signed_nonces(c, post)
    for k in range(len(signed)):
        tx = signed[k].tx
        other = sign(SKS[tx.sender], tx_message(tx, nonces[k] + 7), DST)  # a real signature
        swapped = list(signed)
        swapped[k] = type(signed[k])(tx, other.compressed)
        bad = with_signature(c, aggregate_commitment(swapped))
        assert bad.hash() != c.hash()
        assert check_commitment_signature(bad, post, keys_at, DST) == Fault.BAD_SIGNATURE


@settings(max_examples=12, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 29), st.integers(30, 39), st.integers(1, 10**6)),
        min_size=1,
        max_size=20,
    ),
    st.data(),
)
def test_property_honest_commitments_verify_and_any_swap_fails(transfers, data):
    s = make_state()
    signed = signed_for(s, [(f, t, a, 0) for f, t, a in transfers])
    c, ex = build(s, signed=signed)
    assert ex.ok
    post = post_state(s, c)
    assert check_commitment_signature(c, post, keys_at, DST) == Fault.NONE
    i = data.draw(st.integers(0, len(signed) - 1))
    j = data.draw(st.integers(0, len(signed) - 1))
    if signed[i].tx == signed[j].tx:
        return
    swapped = list(signed)
    swapped[i] = SignedTransfer(signed[i].tx, signed[j].signature)  # j's signature, twice
    bad = with_signature(c, aggregate_commitment(swapped))
    assert check_commitment_signature(bad, post, keys_at, DST) == Fault.BAD_SIGNATURE


def test_signature_serialisations():
    sig = sign(SKS[0], b"m", DST)
    eip = sig.eip2537()
    uncompressed = eip[16:64] + eip[80:128]
    assert signature_from_bytes(uncompressed).compressed == sig.compressed
    assert signature_from_bytes(sig.compressed).compressed == sig.compressed
    assert signature_from_bytes(bytes([0x40]) + bytes(95)).compressed[0] == 0xC0
    from offchain.bls import BLSError

    for bad in (
        bytes(47),
        bytes([0x80]) + uncompressed[1:],
        bytes([0x20]) + uncompressed[1:],
        bytes([0x40]) + bytes(94) + b"\x01",
        uncompressed[:95] + bytes([uncompressed[95] ^ 1]),
    ):
        with pytest.raises(BLSError):
            signature_from_bytes(bad)
    # the 96-byte form aggregates and checks like the compressed one
    s = make_state()
    t = sign_transfer(SKS[1], DST, 1, 2, 5, 0, s.account(1).nonce)
    eip = signature_from_bytes(t.signature).eip2537()
    t96 = SignedTransfer(t.tx, eip[16:64] + eip[80:128])
    assert aggregate_commitment([t96]) == aggregate_commitment([t])
    assert (
        find_bad_signatures([PendingSignature(t96, s.account(1).nonce, KEYS[OWNERS[1]])], DST) == []
    )
    with pytest.raises(ValueError):
        SignedTransfer(t.tx, bytes(64))
    with pytest.raises(ValueError):
        aggregate_commitment([])


def test_wallet_derives_the_key_from_the_l1_account_and_refuses_unpostable_txs():
    acct = EthAccount.from_key(b"\x11" * 32)
    registry = "0x" + "33" * 20
    sk = derive_key(acct, 31337, registry)
    assert sk == derive_secret_key_from_account(acct, 31337, registry)
    assert derive_key(acct, 31337, registry, 1) != sk
    t = sign_transfer(sk, DST, 3, 4, 10**18, 2000, 9)
    assert len(t.signature) == 48
    assert verify(
        sk.public_key(), transfer_message(t.tx, 9), signature_from_bytes(t.signature), DST
    )
    w = sign_withdraw(sk, DST, 3, 10**18, 0, 10)
    assert verify(
        sk.public_key(), withdraw_message(w.tx, 10), signature_from_bytes(w.signature), DST
    )
    from offchain.rollup.codec import CodecError

    with pytest.raises(CodecError, match="mantissa"):
        sign_transfer(sk, DST, 3, 4, 123_456_789_123, 0, 0)
    with pytest.raises(CodecError):
        sign_transfer(sk, DST, 3, 4, 5, 2049, 0)
    with pytest.raises(ValueError, match="ZERO_WITHDRAW"):
        sign_withdraw(sk, DST, 3, 0, 0, 0)


def test_admission_check_flags_undecodable_and_out_of_range():
    s = make_state()
    good = sign_transfer(SKS[1], DST, 1, 2, 5, 0, 0)
    junk = SignedTransfer(good.tx, b"\xff" * 48)
    big = SignedTransfer(Transfer(1, 2, ((1 << 27) - 1) * 10**31, 0), good.signature)
    pend = [PendingSignature(x, 0, KEYS[OWNERS[1]]) for x in (good, junk, big, good)]
    assert find_bad_signatures(pend, DST) == [1, 2]
    assert s.account(1).owner == OWNERS[1]
