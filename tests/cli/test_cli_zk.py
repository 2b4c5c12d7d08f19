# SPDX-License-Identifier: GPL-3.0-or-later
"""`l2kit zk ...` on Anvil: a key, a deposit credited to the key's BabyJubJub public key (as the
zk bridge queues it), nothing to claim, and bad input (malformed zk key, zk batcher not running,
no zk deployment) as one line with nothing sent.

Not here: transfer/withdraw against a proving zk batcher process (each proof takes minutes on a
loaded 2-core machine); the zk batcher's API itself is tested in tests/zk/test_zk_batcher.py."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from conftest import PARAMS, key_of

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
        l2kit.run("zk", "balance", "--leaf", "0", "--zk-batcher", NO_BATCHER), "no batcher at"
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
