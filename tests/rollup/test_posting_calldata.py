"""Class: the validator must be able to read, from L1 data alone, every batch the rollup accepts.

The rollup refuses any posting whose tx input is not exactly the canonical postBatch call (dirty
padding, missing padding, trailing bytes, relocated data, calls forwarded by a contract, EIP-7702
delegated EOAs), and the validator decodes with exactly that rule; a differential property test
holds the on-chain rule and the Python one to the same verdict on random encodings.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from posting_helpers import (
    call_raw,
    delegate,
    fresh_account,
    mutations,
    selector_of,
    send_raw,
)
from rollup_helpers import BOND

from offchain.rollup.l1 import Signer
from offchain.rollup.posting import (
    HEAD_LEN,
    POST_BATCH_SELECTOR,
    NonCanonicalPosting,
    decode_posting,
    encode_posting,
)

NON_CANONICAL = selector_of("NonCanonicalCalldata()")
NOT_EOA = selector_of("PosterNotEOA(address)")


@pytest.fixture(scope="module")
def posting_harness(project, accounts):
    return accounts[0].deploy(project.PostingHarness)


@pytest.fixture
def forwarder(project, accounts):
    return accounts[0].deploy(project.CallForwarder)


def _first_batch(env):
    """A bonded proposer (account 0) and the data of an honest deposits-only batch."""
    env.bond(0)
    env.deposit_eth(1, 10**18)
    batch, state = env.operator().build([])
    assert len(batch.data) % 32 != 0  # so that the batch has padding to tamper with
    return batch, state


def _forward_call(env, forwarder, payload: bytes) -> bytes:
    """Calldata of forwarder.forward(rollup, payload)."""
    args = env.w3.codec.encode(["address", "bytes"], [env.rollup.address, payload])
    return selector_of("forward(address,bytes)") + args


# ------------------------------------------------------ the on-chain rule (Rollup.postBatch)


def test_noncanonical_calldata_class_is_refused_by_rollup(env):
    batch, _ = _first_batch(env)
    sender = env.accounts[0].address
    ok, _ = call_raw(env.w3, sender, env.rollup.address, encode_posting(batch.pre_root, batch.data))
    assert ok
    for name, data in mutations(batch.pre_root, batch.data).items():
        ok, ret = call_raw(env.w3, sender, env.rollup.address, data)
        assert not ok and ret[:4] == NON_CANONICAL, f"{name}: accepted or wrong error {ret.hex()}"


def test_forwarded_posting_class_is_refused_by_rollup(env, forwarder):
    batch, _ = _first_batch(env)
    # The forwarder holds a bond of its own, so only the call path can stop it.
    env.rollup.bond(value=BOND, sender=env.accounts[0])
    payload = encode_posting(batch.pre_root, batch.data)
    ok, ret = call_raw(
        env.w3, env.accounts[0].address, forwarder.address, _forward_call(env, forwarder, payload)
    )
    assert not ok and ret[:4] == NOT_EOA, ret.hex()


def test_delegated_eoa_posting_class_is_refused_by_rollup(env, forwarder):
    batch, _ = _first_batch(env)
    key = fresh_account(env.w3)
    proposer = Signer(env.w3, key)
    proposer.send(env.l1.rollup.functions.bond(), value=BOND, gas=100_000)
    delegate(env.w3, key, forwarder.address)
    payload = encode_posting(batch.pre_root, batch.data)
    # tx.input is a forward(...) call to itself, not postBatch: msg.sender == tx.origin here.
    via_self = send_raw(env.w3, key, proposer.address, _forward_call(env, forwarder, payload))
    # Even a direct, canonical call is refused: the account has code.
    direct = send_raw(env.w3, key, env.rollup.address, payload)
    assert via_self["status"] == 0 and direct["status"] == 0
    ok, ret = call_raw(env.w3, proposer.address, env.rollup.address, payload)
    assert not ok and ret[:4] == NOT_EOA
    assert env.rollup.batchCount() == 0


# ---------------------------------- what the rollup accepts, the validator reads (end to end)


def test_posting_class_every_accepted_posting_is_read_by_the_validator(env, forwarder):
    """Try every way of posting; whatever L1 accepted must replay from L1 data alone."""
    env.bond(0)
    op = env.operator()
    key = env.key(0)
    attempts = [
        *(
            (name, env.rollup.address, lambda pre, d, m=name: mutations(pre, d)[m])
            for name in ("dirty_padding", "short_padding", "trailing_byte", "relocated_offset")
        ),
        (
            "forwarded",
            forwarder.address,
            lambda pre, d: _forward_call(env, forwarder, encode_posting(pre, d)),
        ),
        ("canonical", env.rollup.address, encode_posting),
    ]
    accepted = []
    for name, to, make in attempts:
        env.deposit_eth(1, 10**17)
        batch, state = op.build([])
        if send_raw(env.w3, key, to, make(batch.pre_root, batch.data))["status"] == 1:
            accepted.append(name)
            op.state = state
    assert env.rollup.batchCount() == len(accepted)
    result = env.validator().check()  # raises UnreadableBatch if L1 holds a batch it cannot read
    assert result.fraud is None and result.batches_ok == len(accepted)
    assert accepted == ["canonical"]


def test_unreadable_batch_class_is_reported_not_replayed(env):
    """Should L1 ever hold a batch whose data does not hash to the stored batch hash (a contract
    bug, a wrong tx), the reader names it instead of replaying other bytes."""
    from offchain.rollup.l1 import UnreadableBatch

    op = _honest_posted(env, 2)
    slot = _batch_hash_slot(env, 1)
    env.w3.provider.make_request(
        "anvil_setStorageAt", [env.rollup.address, hex(slot), "0x" + "ab" * 32]
    )
    reading = env.l1.read_batches()
    assert reading.count == 2 and len(reading.batches) == 1
    assert reading.unreadable is not None and reading.unreadable.index == 1
    with pytest.raises(UnreadableBatch, match="batch 1 cannot be read"):
        env.l1.posted_batches()
    assert op is not None


def _honest_posted(env, n: int):
    env.bond(0)
    op = env.operator()
    for _ in range(n):
        env.deposit_eth(1, 10**17)
        op.step([])
    return op


#: RollupStore.SLOT: erc7201:l2kit.storage.Rollup (snapshots/storageLayout/Rollup.json).
ROLLUP_NAMESPACE = 0x4233F2604BD4F94D237230196403204113F79689E0D346A915F3134C89EEF800


def _batch_hash_slot(env, index: int) -> int:
    """Storage slot of `_batches[index].batchHash` (found by its value, layout-independent)."""
    from eth_utils import keccak

    want = bytes(env.rollup.batches(index).batchHash)
    # the Rollup's ERC-7201 namespace (RollupStore.SLOT) or, for older layouts, slot 0
    for base in [*range(64), *(ROLLUP_NAMESPACE + k for k in range(64))]:
        slot = int.from_bytes(keccak(index.to_bytes(32, "big") + base.to_bytes(32, "big")), "big")
        if bytes(env.w3.eth.get_storage_at(env.rollup.address, slot)) == want:
            return slot
    raise AssertionError("batch hash slot not found")


# ------------------------------------------- differential: Solidity rule vs Python decoder

_ROOT = st.binary(min_size=32, max_size=32)
_DATA = st.binary(min_size=0, max_size=200)


@st.composite
def _encodings(draw):
    """Canonical postBatch calldata, or one mutated the ways an attacker would."""
    root, data = draw(_ROOT), draw(_DATA)
    raw = bytearray(encode_posting(root, data))
    kind = draw(
        st.sampled_from(
            ["canonical", "pad", "cut", "extend", "offset", "length", "flip", "relocate"]
        )
    )
    end = HEAD_LEN + len(data)
    if kind == "pad" and end < len(raw):
        raw[draw(st.integers(end, len(raw) - 1))] = draw(st.integers(1, 255))
    elif kind == "cut":
        del raw[len(raw) - draw(st.integers(1, min(len(raw) - 4, 64))) :]
    elif kind == "extend":
        raw += draw(st.binary(min_size=1, max_size=64))
    elif kind == "offset":
        raw[36:68] = draw(st.integers(0, 2**256 - 1) | st.sampled_from([0, 0x20, 0x60])).to_bytes(
            32, "big"
        )
    elif kind == "length":
        delta = draw(st.integers(-40, 40))
        raw[68:100] = max(0, len(data) + delta).to_bytes(32, "big")
    elif kind == "flip":
        i = draw(st.integers(4, len(raw) - 1))
        raw[i] ^= 1 << draw(st.integers(0, 7))
    elif kind == "relocate":  # valid ABI: the offset word points past a junk gap
        gap = draw(st.sampled_from([32, 64]))
        raw = raw[:36] + (0x40 + gap).to_bytes(32, "big") + b"\xee" * gap + raw[68:]
    return bytes(raw)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(calldata=_encodings())
def test_posting_decoder_class_differential_solidity_vs_python(posting_harness, chain, calldata):
    w3 = chain.provider.web3
    ok, ret = call_raw(w3, posting_harness.address, posting_harness.address, calldata)
    try:
        call = decode_posting(calldata)
    except NonCanonicalPosting:
        call = None
    assert ok == (call is not None), f"Solidity {'accepts' if ok else 'refuses'} {calldata.hex()}"
    if call is not None:
        root, data = w3.codec.decode(["bytes32", "bytes"], ret)
        assert (bytes(root), bytes(data)) == (call.expected_pre_root, call.data)
        assert encode_posting(call.expected_pre_root, call.data) == calldata  # one encoding only


def test_posting_decoder_refuses_other_selectors():
    good = encode_posting(b"\x00" * 32, b"\x01")
    assert good[:4] == POST_BATCH_SELECTOR
    with pytest.raises(NonCanonicalPosting, match="selector"):
        decode_posting(b"\xde\xad\xbe\xef" + good[4:])
    with pytest.raises(NonCanonicalPosting, match="shorter"):
        decode_posting(good[:99])
