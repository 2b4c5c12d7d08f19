# SPDX-License-Identifier: GPL-3.0-or-later
"""`l2kit zk status|include|refund` when the zk operator censors deposits, on Anvil from L1 data
alone (no zk batcher): a deposit waits with no deadline, `zk include` starts its inclusion
deadline (a second request is refused, nothing sent), past it `zk status` reports the freeze as
DEPOSITS_CENSORED and `zk refund` pays the deposit back to who paid it."""

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


def ok(result) -> dict:
    assert result.exit_code == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def one_line_error(result, needle: str) -> None:
    assert result.exit_code == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("l2kit: error: ") and needle in lines[0], lines


def test_zk_include_then_censored_deposit_freezes_and_is_refunded(
    l2kit, w3, project, deployer, alice, bob, tmp_path
):
    d = deploy_all(deployer, "ethereum:local", replace(PARAMS, zk=True))
    save_deployment(d, tmp_path)
    zk_key = ok(l2kit.run("zk", "key", "--json"))["key"]
    ok(l2kit.run("zk", "deposit", "0.4", "--yes", "--json", key=key_of(alice), L2KIT_ZK_KEY=zk_key))
    live = ok(l2kit.run("zk", "status", "--json"))
    assert (live["frozen"], live["reason"]) == (False, "NONE")
    assert "1 deposit(s) waiting with no inclusion deadline" in live["detail"]
    nonces = lambda: tuple(w3.eth.get_transaction_count(a.address) for a in (alice, bob))  # noqa: E731
    before = nonces()
    one_line_error(l2kit.run("zk", "refund", "--yes", key=key_of(alice)), "`l2kit zk include`")
    assert nonces() == before

    started = ok(l2kit.run("zk", "include", "--yes", "--json", key=key_of(bob)))
    assert (started["first"], started["count"]) == (0, 1)
    assert started["first_deadline"] == started["last_deadline"]
    before = nonces()
    one_line_error(l2kit.run("zk", "include", "--yes", key=key_of(alice)), "still running")
    assert nonces() == before
    assert (
        f"deposit 0 due at {started['last_deadline']}"
        in ok(l2kit.run("zk", "status", "--json"))["detail"]
    )

    w3.provider.make_request("evm_increaseTime", [PARAMS.zk_forced_delay + 10])
    w3.provider.make_request("evm_mine", [])
    frozen = ok(l2kit.run("zk", "status", "--json"))
    assert (frozen["frozen"], frozen["reason"]) == (True, "DEPOSITS_CENSORED")
    before = nonces()
    one_line_error(l2kit.run("zk", "include", "--yes", key=key_of(bob)), "frozen")
    assert nonces() == before
    refunded = ok(l2kit.run("zk", "refund", "--yes", "--json", key=key_of(alice)))
    assert refunded["freeze_reason"] == "DEPOSITS_CENSORED"
    assert refunded["refunds"] == [{"deposit": 0, "amount": str(4 * 10**17)}]
    bridge = project.L1Bridge.at(d.address("ZkBridge"))
    assert bridge.claimable(alice, "0x" + "00" * 20) == 4 * 10**17
