"""The L1 sender on a real Anvil node: replaced when dropped, retried on RPC errors, never twice."""

import threading
import time

import pytest
from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError

from offchain.errors import L2KitError
from offchain.l1.sender import (
    EstimateRefused,
    L1Sender,
    Reverted,
    SendError,
    SendPolicy,
    WouldRevert,
    max_fee_now,
    node_fees,
    send_transaction,
)

FAST = SendPolicy(receipt_timeout=1.0, backoff=0.01, max_backoff=0.05, max_attempts=6)


@pytest.fixture
def w3(chain):
    return Web3(Web3.HTTPProvider(chain.provider.uri))


@pytest.fixture
def sender(w3, alice):
    return Account.from_key(alice.private_key)


@pytest.fixture
def counter(project, deployer):
    # Any contract with a state-changing call will do: the bridge's deposit queue counts for us.
    return deployer.deploy(project.L1Bridge, "0x01")


def deposit_call(bridge, to):
    return lambda: {
        "to": bridge.address,
        "value": 1,
        "data": bridge.depositETH.encode_input(b"\x01" + bytes.fromhex(to[2:])),
    }


def test_sends_and_returns_the_receipt(w3, sender, counter, bob):
    sent = send_transaction(w3, sender, deposit_call(counter, bob.address), FAST)
    assert sent.receipt["status"] == 1 and sent.attempts == 1
    assert counter.depositCount() == 1


def test_revert_is_reported_not_retried(w3, sender, counter):
    bad = lambda: {  # noqa: E731
        "to": counter.address,
        "value": 0,
        "gas": 200_000,
        "data": counter.depositETH.encode_input(b"\x09"),
    }
    with pytest.raises(Reverted):
        send_transaction(w3, sender, bad, FAST)


def test_dropped_transaction_is_replaced_and_mined_once(w3, sender, counter, bob):
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        calls = {"n": 0}
        original_send = w3.eth.send_raw_transaction

        def send_and_drop(raw):
            calls["n"] += 1
            tx_hash = original_send(raw)
            if calls["n"] == 1:  # the node loses the first version
                w3.provider.make_request("anvil_dropTransaction", [Web3.to_hex(tx_hash)])
            else:
                w3.provider.make_request("evm_mine", [])
            return tx_hash

        w3.eth.send_raw_transaction = send_and_drop
        nonce_before = w3.eth.get_transaction_count(sender.address)
        sent = send_transaction(w3, sender, deposit_call(counter, bob.address), FAST)
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    assert sent.attempts == 2
    assert w3.eth.get_transaction_count(sender.address) == nonce_before + 1
    assert counter.depositCount() == 1


def test_pending_version_mined_late_is_not_sent_again(w3, sender, counter, bob):
    """The first version is only slow, not lost: the replacement must not post a second time."""
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        calls = {"n": 0}
        original_send = w3.eth.send_raw_transaction

        def slow_then_mine(raw):
            calls["n"] += 1
            tx_hash = original_send(raw)
            if calls["n"] >= 2:
                w3.provider.make_request("evm_mine", [])
            return tx_hash

        w3.eth.send_raw_transaction = slow_then_mine
        nonce_before = w3.eth.get_transaction_count(sender.address)
        send_transaction(w3, sender, deposit_call(counter, bob.address), FAST)
        w3.provider.make_request("evm_mine", [])
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    assert w3.eth.get_transaction_count(sender.address) == nonce_before + 1
    assert counter.depositCount() == 1


def test_rpc_errors_are_retried(w3, sender, counter, bob):
    failures = {"left": 3}
    original = w3.eth.get_block

    def flaky_get_block(*args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("connection reset by peer")
        return original(*args, **kwargs)

    w3.eth.get_block = flaky_get_block
    sent = send_transaction(w3, sender, deposit_call(counter, bob.address), FAST)
    assert sent.attempts == 4 and counter.depositCount() == 1


def test_gas_price_above_cap_waits_then_gives_up_clearly(w3, sender, counter, bob):
    capped = SendPolicy(max_fee_cap=1, backoff=0.01, max_backoff=0.01, max_attempts=3)
    with pytest.raises(SendError, match="gave up after 3 attempts"):
        send_transaction(w3, sender, deposit_call(counter, bob.address), capped)
    assert counter.depositCount() == 0


class MemoryJournal:
    """A SendJournal that outlives one `send_transaction` call, as the store's does a restart."""

    def __init__(self):
        self.record = None

    def load(self):
        return self.record

    def save(self, record):
        self.record = record


def pending_nonces(w3, address):
    content = w3.provider.make_request("txpool_content", [])["result"]["pending"]
    mine = next((v for k, v in content.items() if k.lower() == address.lower()), {})
    return sorted(int(n) for n in mine)


def test_restart_with_pending_batch_tx_resends_with_the_journaled_nonce(w3, sender, counter, bob):
    """A sender that gave up (or crashed) while its version sat in the mempool: the next sender
    continues with the same nonce and outbids it, never adding a second transaction."""
    journal = MemoryJournal()
    give_up = SendPolicy(receipt_timeout=0.3, backoff=0.01, max_attempts=1)
    nonce_before = w3.eth.get_transaction_count(sender.address)
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        with pytest.raises(SendError):
            send_transaction(
                w3, sender, deposit_call(counter, bob.address), give_up, journal=journal
            )
        first = journal.record
        assert first.nonce == nonce_before and len(first.tx_hashes) == 1
        assert pending_nonces(w3, sender.address) == [nonce_before]
        with pytest.raises(SendError):  # "restarted", still not mined: a replacement, same nonce
            send_transaction(
                w3, sender, deposit_call(counter, bob.address), give_up, journal=journal
            )
        assert journal.record.nonce == nonce_before and len(journal.record.tx_hashes) == 2
        assert journal.record.max_fee > first.max_fee  # outbids the version in the mempool
        assert pending_nonces(w3, sender.address) == [nonce_before]  # replaced, not joined
        w3.provider.make_request("evm_mine", [])
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    sent = send_transaction(w3, sender, deposit_call(counter, bob.address), FAST, journal=journal)
    assert sent.tx_hash == journal.record.tx_hashes[-1]  # adopted the mined version, sent nothing
    assert w3.eth.get_transaction_count(sender.address) == nonce_before + 1
    assert counter.depositCount() == 1


def test_restart_with_pending_batch_tx_nonce_taken_by_another_tx_is_reported(
    w3, sender, counter, bob
):
    """The journaled nonce went to another transaction: none of ours can ever be mined, so the
    sender says so at once instead of retrying a dead nonce."""
    from offchain.l1.sender import NonceConsumed

    journal = MemoryJournal()
    give_up = SendPolicy(receipt_timeout=0.3, backoff=0.01, max_attempts=1)
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        with pytest.raises(SendError):
            send_transaction(
                w3, sender, deposit_call(counter, bob.address), give_up, journal=journal
            )
        w3.provider.make_request("anvil_dropTransaction", [journal.record.tx_hashes[0]])
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    other = lambda: {"to": bob.address, "value": 1, "data": "0x"}  # noqa: E731
    send_transaction(w3, sender, other, FAST)  # another transaction takes the nonce
    with pytest.raises(NonceConsumed):
        send_transaction(w3, sender, deposit_call(counter, bob.address), FAST, journal=journal)
    assert counter.depositCount() == 0


# ---------------------------------------------------------------- fees, gas and nonces (issue #10)


def test_fees_and_gas_come_from_the_node(w3, sender, counter, bob):
    """No constant in the transaction: tip = eth_maxPriorityFeePerGas, max fee = latest base fee
    * factor + tip, gas = eth_estimateGas + the margin."""
    build = deposit_call(counter, bob.address)
    base = w3.eth.get_block("latest")["baseFeePerGas"]
    tip = w3.eth.max_priority_fee
    estimate = w3.eth.estimate_gas({"from": sender.address, **build()})
    sent = send_transaction(w3, sender, build, FAST)
    tx = w3.eth.get_transaction(sent.tx_hash)
    assert tx["maxPriorityFeePerGas"] == tip
    assert tx["maxFeePerGas"] == base * FAST.base_fee_factor + tip
    assert tx["gas"] == estimate * (100 + FAST.gas_margin_percent) // 100
    assert max_fee_now(w3, FAST) == tx["maxFeePerGas"]  # what balance checks should price with


def test_a_stated_gas_limit_is_sent_as_stated(w3, sender, counter, bob):
    l1 = L1Sender(w3, sender, FAST)
    sent = l1.send(deposit_call(counter, bob.address), gas=123_456)
    assert w3.eth.get_transaction(sent.tx_hash)["gas"] == 123_456
    with pytest.raises(L2KitError, match="must be positive"):
        l1.send(deposit_call(counter, bob.address), gas=0)


def test_fee_spike_stuck_version_is_replaced_with_fees_from_the_new_base_fee(
    w3, sender, counter, bob
):
    """The base fee jumps above the first version's max fee right after it is broadcast, so it
    cannot be mined: the sender replaces it (same nonce) priced from the new base fee, and
    exactly one version lands."""
    spike = 200 * 10**9
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        calls = {"n": 0}
        original_send = w3.eth.send_raw_transaction

        first_fee: list[int] = []

        def send_then_spike(raw):
            calls["n"] += 1
            first_fee.append(TypedTransaction.from_bytes(HexBytes(raw)).as_dict()["maxFeePerGas"])
            tx_hash = original_send(raw)
            if calls["n"] == 1:  # the spike: the next block's base fee prices version 1 out
                w3.provider.make_request("anvil_setNextBlockBaseFeePerGas", [hex(spike)])
            w3.provider.make_request("evm_mine", [])
            return tx_hash

        w3.eth.send_raw_transaction = send_then_spike
        nonce_before = w3.eth.get_transaction_count(sender.address)
        sent = send_transaction(w3, sender, deposit_call(counter, bob.address), FAST)
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    assert first_fee[0] < spike  # version 1 really was priced out
    assert sent.attempts == 2 and len(first_fee) == 2
    assert first_fee[1] > first_fee[0] * (100 + FAST.bump_percent) // 100  # outbids version 1
    mined = w3.eth.get_transaction(sent.tx_hash)
    assert mined["nonce"] == nonce_before
    assert mined["maxFeePerGas"] >= spike * 7 // 8 * FAST.base_fee_factor  # from the new base fee
    assert w3.eth.get_transaction_count(sender.address) == nonce_before + 1
    assert counter.depositCount() == 1


def test_one_sender_serialises_nonces_across_threads(w3, sender, counter, bob):
    """Eight threads share one account's L1Sender while the node answers slowly (a wide window
    for two threads to read the same pending nonce): the sends never overlap, every one is
    mined, with consecutive nonces and no gap."""
    real_count = w3.eth.get_transaction_count
    in_flight = {"now": 0, "max": 0}
    guard = threading.Lock()

    def slow_count(*args, **kwargs):
        with guard:
            in_flight["now"] += 1
            in_flight["max"] = max(in_flight["max"], in_flight["now"])
        try:
            time.sleep(0.05)
            return real_count(*args, **kwargs)
        finally:
            with guard:
                in_flight["now"] -= 1

    w3.eth.get_transaction_count = slow_count
    l1 = L1Sender(w3, sender, FAST)
    start = real_count(sender.address)
    results: list = []
    barrier = threading.Barrier(8)

    def send() -> None:
        barrier.wait()
        results.append(l1.send(deposit_call(counter, bob.address)))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    del w3.eth.get_transaction_count
    assert len(results) == 8 and all(r.attempts == 1 for r in results)
    assert in_flight["max"] == 1  # no two threads ever read the nonce at once
    nonces = sorted(w3.eth.get_transaction(r.tx_hash)["nonce"] for r in results)
    assert nonces == list(range(start, start + 8))
    assert real_count(sender.address, "pending") == real_count(sender.address) == start + 8
    assert counter.depositCount() == 8


def test_call_that_would_revert_is_refused_at_once_and_nothing_is_sent(w3, sender, counter):
    nonce = w3.eth.get_transaction_count(sender.address, "pending")
    slept: list[float] = []
    bad = lambda: {"to": counter.address, "data": counter.depositETH.encode_input(b"\x09")}  # noqa: E731
    with pytest.raises(WouldRevert, match="nothing was sent") as err:
        send_transaction(w3, sender, bad, FAST, sleep=slept.append)
    assert isinstance(err.value.error, ContractLogicError)
    assert slept == []  # not retried
    assert w3.eth.get_transaction_count(sender.address, "pending") == nonce


def test_unfunded_account_is_refused_at_once_with_the_nodes_reason(w3, counter, bob):
    broke = Account.create()
    slept: list[float] = []
    with pytest.raises(EstimateRefused) as err:
        send_transaction(w3, broke, deposit_call(counter, bob.address), FAST, sleep=slept.append)
    assert not isinstance(err.value, WouldRevert)
    assert "insufficient funds" in str(err.value).lower() and slept == []


def test_keyed_send_uses_the_journal_factory(w3, sender, counter, bob):
    journals: dict[str, MemoryJournal] = {}
    l1 = L1Sender(w3, sender, FAST, journals=lambda k: journals.setdefault(k, MemoryJournal()))
    sent = l1.send(deposit_call(counter, bob.address), key="deposit-1")
    assert journals["deposit-1"].record.tx_hashes == (sent.tx_hash,)
    again = l1.send(deposit_call(counter, bob.address), key="deposit-1")  # resumed: adopted
    assert again.tx_hash == sent.tx_hash and counter.depositCount() == 1
    with pytest.raises(L2KitError, match="needs a sender with journals"):
        L1Sender(w3, sender, FAST).send(deposit_call(counter, bob.address), key="x")


def test_legacy_chain_is_priced_with_the_nodes_gas_price():
    class LegacyEth:
        gas_price = 7 * 10**9

        def get_block(self, _):
            return {"number": 1}  # no baseFeePerGas: a chain without EIP-1559

    class LegacyWeb3:
        eth = LegacyEth()

    node = node_fees(LegacyWeb3(), FAST)  # type: ignore[arg-type]
    assert node.base_fee is None and node.gas_price == 7 * 10**9


def test_a_node_side_rpc_error_at_estimation_is_retried_not_refused(w3, sender, counter, bob):
    """'header not found' from a load-balanced provider says nothing about the transaction."""
    from web3.exceptions import Web3RPCError

    real = w3.eth.estimate_gas
    left = {"n": 2}

    def flaky(tx):
        if left["n"]:
            left["n"] -= 1
            raise Web3RPCError(
                "header not found",
                rpc_response={"error": {"code": -32000, "message": "header not found"}},
            )
        return real(tx)

    w3.eth.estimate_gas = flaky
    try:
        sent = send_transaction(w3, sender, deposit_call(counter, bob.address), FAST)
    finally:
        del w3.eth.estimate_gas
    assert sent.attempts == 3 and counter.depositCount() == 1
