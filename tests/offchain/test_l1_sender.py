"""The L1 sender on a real Anvil node: replaced when dropped, retried on RPC errors, never twice."""

import pytest
from eth_account import Account
from web3 import Web3

from offchain.l1.sender import Reverted, SendError, SendPolicy, send_transaction

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
