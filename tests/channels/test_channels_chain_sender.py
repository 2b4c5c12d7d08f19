"""The channel chain client under concurrency and failed sends, and the node's reporting of
failed on-chain enforcement (issue #9, item 10)."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest
from eth_utils import keccak
from test_channels_nodes import E, graph, line, pair, wait_for
from web3.exceptions import BadFunctionCallOutput, Web3RPCError

from offchain.channels.chain import TxFailed


def test_chain_sender_concurrent_sends_all_land(net, adjudicator, accounts):
    """Threads of one node sending at once: every transaction is mined, no nonce is reused or
    skipped (the pending count equals the mined count afterwards)."""
    client = net.client(accounts[6])
    secrets = [os.urandom(32) for _ in range(8)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(secrets))

    def send(secret: bytes) -> None:
        start.wait()
        try:
            client.register_secret(secret)
        except BaseException as e:  # collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=send, args=(s,)) for s in secrets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert all(adjudicator.secretRevealedAt(keccak(s)) > 0 for s in secrets)
    addr = client.address
    w3 = client.w3
    assert w3.eth.get_transaction_count(addr, "pending") == w3.eth.get_transaction_count(addr)


def test_chain_sender_concurrent_recovers_nonce_after_failed_send(net, adjudicator, accounts):
    """A send that fails after signing (RPC error) leaves no nonce gap: it is retried with the
    chain's pending nonce, and the next transaction is mined at once instead of queueing."""
    client = net.client(accounts[7])
    real = client.w3.eth.send_raw_transaction
    failures = iter([ConnectionError("RPC connection reset (simulated)")])

    def flaky(raw):
        err = next(failures, None)
        if err is not None:
            raise err
        return real(raw)

    client.w3.eth.send_raw_transaction = flaky
    first, second = os.urandom(32), os.urandom(32)
    client.register_secret(first)
    client.policy = type(client.policy)(max_attempts=1, receipt_timeout=5.0)
    client.register_secret(second)  # would wait on a queued, gapped nonce on today's main
    assert adjudicator.secretRevealedAt(keccak(first)) > 0
    assert adjudicator.secretRevealedAt(keccak(second)) > 0


def test_chain_sender_failure_is_reported_and_retried(net, adjudicator, alice, bob, carol, dave):
    """B must enforce A-B on chain but its transaction fails: the failure is in B's status (not
    lost), and B's timer retries until the secret is on chain and A-B is closed."""

    async def run():
        (a, b, c, d), (ab, _bc, cd) = await line(net, alice, bob, carol, dave, auto_claim=False)
        try:
            h = d.create_invoice(E)
            payment = asyncio.ensure_future(a.pay(d.address, E, h, graph(a, b, c, d)))
            await wait_for(lambda: bool(d.views[cd].latest.state.locks))
            payment.cancel()
            await a.stop()  # the payer disappears once every lock is in place
            net.nodes.remove(a)
            real = b.chain.register_secret
            fails = {"n": 0}

            def broken(secret):
                fails["n"] += 1
                raise TxFailed("registerSecret: node refused the transaction (simulated)")

            b.chain.register_secret = broken
            await d.claim_incoming(h)
            await wait_for(lambda: b.store.secret(h) is not None)
            lock = b.views[ab].latest.state.lock(h)
            net.clock.warp(lock.expiry - net.clock() - b.config.margin() + 1)
            await wait_for(lambda: any("simulated" in e for e in b.status()["errors"]))
            assert adjudicator.getChannel(ab).status == 1  # not closed: the secret is not on chain
            assert not b.views[ab].closed
            b.chain.register_secret = real  # the RPC recovers: the timer's next run succeeds
            await wait_for(lambda: adjudicator.getChannel(ab).status == 2)
            assert adjudicator.secretRevealedAt(h) > 0
            assert fails["n"] >= 1
        finally:
            await net.stop_all()

    asyncio.run(run())


def test_chain_sender_concurrent_approve_goes_through_same_sender(net, adjudicator, token, alice):
    """Calls to another contract (ERC-20 approve) share the account's one sender."""
    client = net.client(alice)
    abi = [x.model_dump(mode="json", by_alias=True) for x in token.contract_type.abi]
    threads = [
        threading.Thread(target=client.approve, args=(token.address, 10**18 + i, abi))
        for i in range(3)
    ]
    for t in threads:
        t.start()
    client.register_secret(os.urandom(32))
    for t in threads:
        t.join(60)
    assert token.allowance(alice, adjudicator) in {10**18, 10**18 + 1, 10**18 + 2}
    w3 = client.w3
    assert w3.eth.get_transaction_count(alice.address, "pending") == w3.eth.get_transaction_count(
        alice.address
    )


# ---------------------------------------------------------------- any RPC error, same handling

RPC_ERRORS = [
    Web3RPCError("header not found (simulated)"),
    BadFunctionCallOutput("empty reply (simulated)"),
    ConnectionError("connection reset (simulated)"),
]


@pytest.mark.parametrize("err", RPC_ERRORS, ids=lambda e: type(e).__name__)
def test_rpc_error_any_kind_chain_watcher_keeps_disputing(net, adjudicator, alice, bob, err):
    """The chain watcher is what disputes a stale close: an RPC error of any kind (web3's own
    exceptions do not derive from OSError) is reported and the watcher goes on; the stale close
    that follows is still disputed."""

    async def run():
        a, b, cid = await pair(net, alice, bob)
        try:
            await b.pay_direct(a.address, 2 * E)
            stale = b.views[cid].latest
            for _ in range(3):
                await a.pay_direct(b.address, 1 * E)
            real = a.chain.block_number
            left = {"n": 3}

            def flaky() -> int:
                if left["n"] > 0:
                    left["n"] -= 1
                    raise err
                return real()

            a.chain.block_number = flaky
            await wait_for(lambda: left["n"] == 0, timeout=10)
            await wait_for(lambda: any("simulated" in e for e in a.status()["errors"]))
            await b.close_channel(cid, state=stale)
            await wait_for(lambda: adjudicator.getChannel(cid).nonce == 4, timeout=15)
        finally:
            await net.stop_all()

    asyncio.run(run())


def test_rpc_error_any_kind_send_raises_tx_failed(net, adjudicator, accounts):
    """A JSON-RPC error while checking or sending a transaction reaches the caller as TxFailed,
    the one failure type every caller of the chain client handles."""
    client = net.client(accounts[8])
    real = client.w3.eth.call
    client.w3.eth.call = lambda *a, **k: (_ for _ in ()).throw(Web3RPCError("busy (simulated)"))
    with pytest.raises(TxFailed, match="simulated"):
        client.register_secret(os.urandom(32))
    client.w3.eth.call = real
    secret = os.urandom(32)
    client.register_secret(secret)
    assert adjudicator.secretRevealedAt(keccak(secret)) > 0
