"""Every rollup and operator command on Anvil, as a user runs them, against the batcher running
as a real process: deposit, balance, transfer, withdraw, finalize (waiting out the window),
claim, force, and, after a freeze, exit and refund."""

from __future__ import annotations

import json
import time

import pytest
from conftest import ONE, PARAMS, ServiceProcess, advance, key_of

from offchain.rollup.checkpoint import resume
from offchain.rollup.l1 import RollupL1


def ok(result) -> dict:
    assert result.exit_code == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def wait_accounts(l2kit, who, n, url, timeout=30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = ok(l2kit.run("rollup", "balance", who.address, "--json", "--batcher", url))
        if len(view["accounts"]) >= n and all(
            a["balance"] == a["confirmed_balance"] for a in view["accounts"]
        ):
            return view
        time.sleep(0.3)
    raise AssertionError(f"{who.address} has no L2 account after {timeout} s")


@pytest.fixture
def service(l2kit, deployer, tmp_path):
    svc = ServiceProcess(tmp_path / "batcher.sqlite", l2kit.deployments, key_of(deployer))
    yield svc
    svc.stop()


@pytest.mark.slow  # the whole CLI flow
def test_deposit_transfer_withdraw_finalize_claim_force_exit_refund(
    l2kit, w3, project, deployment, service, alice, bob, carol
):
    a, b, batcher = key_of(alice), key_of(bob), service.url
    rollup = project.Rollup.at(deployment.address("Rollup"))
    dep = ok(l2kit.run("rollup", "deposit", "1", "--yes", "--json", key=a))
    assert dep["amount"] == str(ONE) and dep["recipient"] == alice.address
    ok(l2kit.run("rollup", "deposit", "0.5", "--yes", "--json", key=b))
    alice_view = wait_accounts(l2kit, alice, 1, batcher)
    wait_accounts(l2kit, bob, 1, batcher)
    assert alice_view["accounts"][0]["balance"] == str(ONE)

    # Format v2: L2 txs are signed with a BLS key derived from the wallet, registered once.
    nokey = l2kit.run(
        "rollup", "transfer", bob.address, "0.25", "--yes", "--batcher", batcher, key=a
    )
    assert nokey.exit_code != 0 and "l2kit rollup key register" in nokey.stderr, nokey.stderr
    shown = ok(l2kit.run("rollup", "key", "show", "--json", key=a))
    assert shown["state"] == "none" and len(shown["public_key"]) == 2 + 2 * 96  # compressed G2
    reg = ok(l2kit.run("rollup", "key", "register", "--yes", "--json", key=a))
    assert reg["public_key"] == shown["public_key"]  # the same wallet derives the same key
    ok(l2kit.run("rollup", "key", "register", "--yes", "--json", key=b))
    pending = l2kit.run(
        "rollup", "transfer", bob.address, "0.25", "--yes", "--batcher", batcher, key=a
    )
    assert pending.exit_code != 0 and "becomes valid at L1 block" in pending.stderr
    w3.provider.make_request("anvil_mine", [hex(4)])  # past the activation delay
    time.sleep(1)  # the batcher reads new key registrations every poll (0.25 s)
    assert ok(l2kit.run("rollup", "key", "show", "--json", key=a))["state"] == "active"
    again = ok(l2kit.run("rollup", "key", "register", "--yes", "--json", key=a))
    assert again["state"] == "already registered"

    # A transfer to an address resolves its L2 account; --wait returns once it is on L1.
    sent = ok(
        l2kit.run(
            "rollup",
            "transfer",
            bob.address,
            "0.25",
            "--wait",
            "--yes",
            "--json",
            "--batcher",
            batcher,
            key=a,
        )
    )
    assert sent["status"] in ("posted", "final")
    bob_view = ok(l2kit.run("rollup", "balance", bob.address, "--json", "--batcher", batcher))
    assert bob_view["accounts"][0]["balance"] == str(75 * 10**16)

    # Insufficient L2 balance: refused before signing, nothing submitted.
    refused = l2kit.run(
        "rollup", "transfer", bob.address, "5", "--yes", "--batcher", batcher, key=a
    )
    assert refused.exit_code == 1 and "insufficient L2 balance" in refused.stderr
    # A recipient without an L2 account.
    refused = l2kit.run(
        "rollup", "transfer", carol.address, "0.1", "--yes", "--batcher", batcher, key=a
    )
    assert refused.exit_code == 1 and "must deposit first" in refused.stderr

    out = ok(
        l2kit.run(
            "rollup", "withdraw", "0.1", "--wait", "--yes", "--json", "--batcher", batcher, key=a
        )
    )
    tx_hash = out["tx_hash"]
    early = l2kit.run("rollup", "finalize", tx_hash, "--no-wait", "--batcher", batcher, key=a)
    assert early.exit_code == 1 and "not final yet" in early.stderr
    advance(w3, PARAMS.challenge_period + 1)
    fin = ok(
        l2kit.run("rollup", "finalize", tx_hash, "--yes", "--json", "--batcher", batcher, key=a)
    )
    assert fin["amount"] == str(ONE // 10) and fin["owner"] == alice.address
    again = l2kit.run("rollup", "finalize", tx_hash, "--batcher", batcher, key=a)
    assert again.exit_code == 1 and "already finalized" in again.stderr

    before = w3.eth.get_balance(alice.address)
    claimed = ok(l2kit.run("rollup", "claim", "--json", key=a))
    receipt = w3.eth.get_transaction_receipt(claimed["l1_tx"])
    gas = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert w3.eth.get_balance(alice.address) - before + gas == ONE // 10

    # Forced withdraw from L1 data alone: the batcher must include it.
    forced = ok(l2kit.run("rollup", "force", "withdraw", "0.05", "--yes", "--json", key=b))
    assert forced["forced_index"] == 0
    deadline = time.monotonic() + 30
    while rollup.head()[2] < 1:
        assert time.monotonic() < deadline, "the batcher did not include the forced tx"
        time.sleep(0.3)

    # Carol deposits, the operator goes silent, the liveness period passes: freeze, then exit
    # (Bob's account) and refund (Carol's never-credited deposit), all from L1 data.
    advance(w3, PARAMS.challenge_period + 1)  # everything posted so far becomes final
    service.stop()
    ok(l2kit.run("rollup", "deposit", "0.3", "--yes", "--json", key=key_of(carol)))
    advance(w3, PARAMS.liveness_period + 1)
    # Bob exits from a validator's checkpoint (the same claims as from genesis, fewer replays).
    l1 = RollupL1(w3, deployment.address("Rollup"), deployment.address("RollupBridge"))
    _, ck = resume(l1, l1.signing_dst(), None)
    ck_file = l2kit.deployments / "validator-checkpoint.json"
    ck_file.write_text(json.dumps({"checkpoint": "0x" + ck.to_bytes().hex()}))
    exited = ok(l2kit.run("rollup", "exit", "--checkpoint", str(ck_file), "--yes", "--json", key=b))
    assert [e["amount"] for e in exited["exits"]] == [str(70 * 10**16)]
    refunded = ok(l2kit.run("rollup", "refund", "--yes", "--json", key=key_of(carol)))
    assert [r["amount"] for r in refunded["refunds"]] == [str(3 * 10**17)]
    nothing = l2kit.run("rollup", "exit", "--yes", key=b)
    assert nothing.exit_code == 1 and "nothing to exit" in nothing.stderr
    assert ok(l2kit.run("rollup", "claim", "--json", key=key_of(carol)))["amount"] == str(
        3 * 10**17
    )


def test_erc20_deposit_approves_then_deposits_in_token_units(l2kit, w3, project, deployment, alice):
    token = project.TestToken.at(deployment.address("DemoToken"))
    token.mint(alice, 3_000_000, sender=alice)  # 3 DUSD (6 decimals)
    short = l2kit.run("rollup", "deposit", "4", "--token", "DemoToken", "--yes", key=key_of(alice))
    assert short.exit_code == 1 and "has 3 DUSD" in short.stderr
    precise = l2kit.run(
        "rollup", "deposit", "0.0000001", "--token", "DemoToken", "--yes", key=key_of(alice)
    )
    assert precise.exit_code == 1 and "more decimals" in precise.stderr
    out = ok(
        l2kit.run(
            "rollup",
            "deposit",
            "2.5",
            "--token",
            "DemoToken",
            "--yes",
            "--json",
            key=key_of(alice),
        )
    )
    assert out["amount"] == "2500000" and out["token"] == "DUSD"
    bridge = project.L1Bridge.at(deployment.address("RollupBridge"))
    assert token.balanceOf(bridge) == 2_500_000
    assert token.balanceOf(alice) == 500_000
