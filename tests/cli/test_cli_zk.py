# SPDX-License-Identifier: GPL-3.0-or-later
"""`l2kit zk ...` on Anvil: a key, a deposit credited to the key's BabyJubJub public key (as the
zk bridge queues it), nothing to claim, and bad input (malformed zk key, zk batcher not running,
no zk deployment) as one line with nothing sent; and the happy path end to end against the zk
batcher run as a process (`offchain.sequencer.service --mode zk`): deposit, balance, transfer,
withdraw and claim, in two proven batches (the deposits, then the transfer with the withdrawal);
and, the zk batcher gone with its state file, `zk force`, `zk exit` (after the freeze) and `zk
refund` from L1 data alone.
The zk batcher's API itself is tested in tests/zk/test_zk_batcher.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace

import pytest
from conftest import PARAMS, ROOT, key_of

from offchain.deploy import deploy_all, zk_available
from offchain.deployments import save_deployment

pytestmark = [
    pytest.mark.skipif(not zk_available(), reason="the optional zk extra is not installed"),
    pytest.mark.slow,  # deploying the zk verifiers loads the circuit keys (~30 s)
]
NO_BATCHER = "http://127.0.0.1:9"


def ok(result) -> dict:
    assert result.exit_code == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def one_line_error(result, needle: str) -> None:
    assert result.exit_code == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("l2kit: error: ") and needle in lines[0], lines


def test_zk_key_deposit_and_bad_input(l2kit, w3, project, deployer, alice, tmp_path):
    from offchain.zk.babyjub import PrivateKey
    from offchain.zk.txs import recipient_bytes

    d = deploy_all(deployer, "ethereum:local", replace(PARAMS, zk=True))
    save_deployment(d, tmp_path)
    made = ok(l2kit.run("zk", "key", "--json"))
    seed = bytes.fromhex(made["key"][2:])
    pub = PrivateKey(seed).public_key
    assert made["public_key"] == [hex(pub[0]), hex(pub[1])]

    dep = ok(
        l2kit.run(
            "zk", "deposit", "0.5", "--yes", "--json", key=key_of(alice), L2KIT_ZK_KEY=made["key"]
        )
    )
    bridge = project.L1Bridge.at(d.address("ZkBridge"))
    queued = bridge.DepositQueued.query("*").to_dict("records")[-1]["event_arguments"]
    assert queued["index"] == dep["deposit_index"] == 0
    assert queued["amount"] == 5 * 10**17 and bytes(queued["recipient"]) == recipient_bytes(pub)

    before = w3.eth.get_transaction_count(alice.address)
    one_line_error(
        l2kit.run("zk", "deposit", "1", "--yes", key=key_of(alice), L2KIT_ZK_KEY="0x1234"),
        "a zk key is 32 bytes",
    )
    one_line_error(l2kit.run("zk", "deposit", "1", "--yes", key=key_of(alice)), "no zk key")
    one_line_error(
        l2kit.run("zk", "balance", "--leaf", "0", "--zk-batcher", NO_BATCHER),
        "--mode zk --port 8548`, or pass --zk-batcher <url>",
    )
    one_line_error(
        l2kit.run(
            "zk",
            "transfer",
            "1",
            "0.1",
            "--leaf",
            "0",
            "--yes",
            "--zk-batcher",
            NO_BATCHER,
            key=key_of(alice),
            L2KIT_ZK_KEY=made["key"],
        ),
        "no batcher at",
    )
    one_line_error(l2kit.run("zk", "claim", key=key_of(alice)), "nothing to claim")
    assert w3.eth.get_transaction_count(alice.address) == before


def _start_zk_batcher(tmp_path, deployer) -> tuple[subprocess.Popen, str]:
    env = dict(
        os.environ,
        L2KIT_DEPLOYMENTS=str(tmp_path),
        L2KIT_PROPOSER_KEY=key_of(deployer),
        PYTHONPATH=str(ROOT),
    )
    env.pop("L2KIT_FAILPOINT", None)
    with open(tmp_path / "zk-batcher.log", "w") as log:  # a file: a full pipe would block it
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "offchain.sequencer.service",
                "--mode",
                "zk",
                "--network",
                "ethereum:local",
                "--store",
                str(tmp_path / "zk-batcher.sqlite"),
                "--zk-state",
                str(tmp_path / "zk-state.json"),
                "--port",
                "0",
                # Deposits are batched at once; txs when N=2 are pending (or after this long).
                "--max-batch-delay",
                "60",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    line = proc.stdout.readline()  # READY <url>, once the circuit keys are loaded
    if not line.startswith("READY "):
        proc.kill()
        proc.wait()
        raise AssertionError(f"zk batcher not ready: {(tmp_path / 'zk-batcher.log').read_text()}")
    return proc, line.split()[1]


def test_zk_deposit_balance_transfer_withdraw_claim(
    l2kit, w3, project, deployer, alice, bob, carol, tmp_path
):
    d = deploy_all(deployer, "ethereum:local", replace(PARAMS, zk=True))
    save_deployment(d, tmp_path)
    key_a, key_b = (ok(l2kit.run("zk", "key", "--json"))["key"] for _ in range(2))
    # Both deposits before the batcher starts: one deposit-only batch credits leaves 0 and 1.
    for who, zk_key, amount in ((alice, key_a, "1"), (bob, key_b, "0.5")):
        ok(
            l2kit.run(
                "zk", "deposit", amount, "--yes", "--json", key=key_of(who), L2KIT_ZK_KEY=zk_key
            )
        )
    proc, url = _start_zk_batcher(tmp_path, deployer)
    try:

        def balance(leaf: int) -> dict:
            return ok(
                l2kit.run("zk", "balance", "--leaf", str(leaf), "--json", L2KIT_ZK_BATCHER=url)
            )

        def until_confirmed(leaf: int, wei: int) -> dict:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                info = balance(leaf)
                if info["confirmed_balance"] == str(wei):
                    return info
                assert proc.poll() is None, (tmp_path / "zk-batcher.log").read_text()
                time.sleep(1)
            raise AssertionError(f"leaf {leaf} never confirmed {wei}: {balance(leaf)}")

        assert until_confirmed(0, 10**18)["balance"] == str(10**18)
        assert until_confirmed(1, 5 * 10**17)["nonce"] == 0

        # A transfer and a withdrawal (nonces 0 and 1 of leaf 0) share the next batch.
        sent = ok(
            l2kit.run(
                "zk",
                "transfer",
                "1",
                "0.3",
                "--leaf",
                "0",
                "--yes",
                "--json",
                key=key_of(alice),
                L2KIT_ZK_KEY=key_a,
                L2KIT_ZK_BATCHER=url,
            )
        )
        assert sent["status"] == "pending"
        out = ok(
            l2kit.run(
                "zk",
                "withdraw",
                "0.2",
                "--leaf",
                "0",
                "--yes",
                "--json",
                key=key_of(alice),
                L2KIT_ZK_KEY=key_a,
                L2KIT_ZK_BATCHER=url,
            )
        )
        assert out["status"] == "pending"
        assert balance(0)["nonce"] == 2  # pending: both applied
        leaf0 = until_confirmed(0, 5 * 10**17)
        assert leaf0["confirmed_nonce"] == 2
        assert until_confirmed(1, 8 * 10**17)["balance"] == str(8 * 10**17)

        bridge = project.L1Bridge.at(d.address("ZkBridge"))
        assert bridge.claimable(alice, "0x" + "00" * 20) == 2 * 10**17  # final at proof time
        before = w3.eth.get_balance(carol.address)
        claimed = ok(
            l2kit.run("zk", "claim", "--to", carol.address, "--yes", "--json", key=key_of(alice))
        )
        assert claimed["amount"] == str(2 * 10**17)
        assert w3.eth.get_balance(carol.address) - before == 2 * 10**17
        assert bridge.claimable(alice, "0x" + "00" * 20) == 0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_zk_force_exit_refund_from_l1_alone(
    l2kit, w3, project, deployer, alice, bob, carol, tmp_path
):
    from offchain.zk.state import L2State

    """The operator proves one batch, then disappears with its state file: `zk force` queues a
    forced withdrawal built from L1 data alone; after the freeze `zk exit` pays a whole balance
    (claimed with `zk claim`) and `zk refund` refunds the deposit no batch consumed."""
    d = deploy_all(deployer, "ethereum:local", replace(PARAMS, zk=True))
    save_deployment(d, tmp_path)
    key_a, key_b, stranger = (ok(l2kit.run("zk", "key", "--json"))["key"] for _ in range(3))
    for who, zk_key, amount in ((alice, key_a, "1"), (bob, key_b, "0.5")):
        ok(
            l2kit.run(
                "zk", "deposit", amount, "--yes", "--json", key=key_of(who), L2KIT_ZK_KEY=zk_key
            )
        )
    rollup = project.ZkRollup.at(d.address("ZkRollup"))
    proc, _ = _start_zk_batcher(tmp_path, deployer)
    try:
        deadline = time.monotonic() + 300
        while rollup.batchCount() < 1:
            assert time.monotonic() < deadline, "the zk batcher proved no batch"
            assert proc.poll() is None, (tmp_path / "zk-batcher.log").read_text()
            time.sleep(1)
    finally:
        _stop(proc)
    assert rollup.depositsProcessed() == 2
    # A copy the user kept (for --state), then the operator disappears with its state: only L1.
    trusted = tmp_path / "trusted-state.json"
    trusted.write_text((tmp_path / "zk-state.json").read_text())
    bogus = tmp_path / "bogus-state.json"
    bogus.write_text(L2State.empty(4).to_json().replace('"batches_done": 0', '"batches_done": 1'))
    (tmp_path / "zk-state.json").unlink()
    (tmp_path / "zk-batcher.sqlite").unlink()
    # Carol's deposit (to Alice's key) comes after the last batch: no batch ever consumes it.
    ok(l2kit.run("zk", "deposit", "0.2", "--yes", "--json", key=key_of(carol), L2KIT_ZK_KEY=key_a))

    def nonces() -> tuple[int, ...]:
        return tuple(w3.eth.get_transaction_count(a.address) for a in (alice, bob, carol))

    before = nonces()
    one_line_error(
        l2kit.run("zk", "exit", "--yes", key=key_of(alice), L2KIT_ZK_KEY=key_a), "not frozen"
    )
    one_line_error(l2kit.run("zk", "refund", "--yes", key=key_of(carol)), "not frozen")
    one_line_error(
        l2kit.run("zk", "force", "--yes", key=key_of(alice), L2KIT_ZK_KEY=stranger),
        "no such leaf",
    )
    assert nonces() == before

    forced = ok(l2kit.run("zk", "force", "--yes", "--json", key=key_of(bob), L2KIT_ZK_KEY=key_b))
    assert (forced["forced_index"], forced["leaf"], forced["root_count"]) == (0, 1, 1)
    assert rollup.forcedCount() == 1 and rollup.forcedPending(1)
    request = rollup.forcedRequest(0)
    assert (request.leafIndex, request.recipient) == (1, bob.address)
    before = nonces()
    one_line_error(
        l2kit.run("zk", "force", "--yes", key=key_of(bob), L2KIT_ZK_KEY=key_b), "already has"
    )
    assert nonces() == before

    w3.provider.make_request("evm_increaseTime", [PARAMS.zk_freeze_period + 10])
    w3.provider.make_request("evm_mine", [])
    assert rollup.frozen()

    out = ok(l2kit.run("zk", "exit", "--yes", "--json", key=key_of(alice), L2KIT_ZK_KEY=key_a))
    assert (out["leaf"], out["amount"], out["to"]) == (0, str(10**18), alice.address)
    bridge = project.L1Bridge.at(d.address("ZkBridge"))
    eth = "0x" + "00" * 20
    assert bridge.claimable(alice, eth) == 10**18
    before = nonces()
    one_line_error(
        l2kit.run("zk", "exit", "--yes", key=key_of(alice), L2KIT_ZK_KEY=key_a), "already exited"
    )
    one_line_error(
        l2kit.run("zk", "exit", "--yes", key=key_of(alice), L2KIT_ZK_KEY=stranger), "no such leaf"
    )
    assert nonces() == before
    one_line_error(
        l2kit.run(
            "zk", "exit", "--yes", "--state", str(bogus), key=key_of(bob), L2KIT_ZK_KEY=key_b
        ),
        "not a state of this rollup",
    )
    assert nonces() == before
    # From a state file the user trusts (later batches, none here, replayed from L1).
    out = ok(
        l2kit.run(
            "zk",
            "exit",
            "--yes",
            "--json",
            "--state",
            str(trusted),
            key=key_of(bob),
            L2KIT_ZK_KEY=key_b,
        )
    )
    assert (out["leaf"], out["amount"]) == (1, str(5 * 10**17))
    assert bridge.claimable(bob, eth) == 5 * 10**17
    held = w3.eth.get_balance(alice.address)
    claimed = ok(l2kit.run("zk", "claim", "--yes", "--json", key=key_of(alice)))
    assert claimed["amount"] == str(10**18)
    assert w3.eth.get_balance(alice.address) > held + 99 * 10**16  # minus gas

    refunded = ok(l2kit.run("zk", "refund", "--yes", "--json", key=key_of(carol)))
    assert refunded["refunds"] == [{"deposit": 2, "amount": str(2 * 10**17)}]
    assert bridge.claimable(carol, eth) == 2 * 10**17
    before = nonces()
    one_line_error(l2kit.run("zk", "refund", "--yes", key=key_of(carol)), "nothing to refund")
    assert nonces() == before
