"""The committed gas snapshots (snapshots/gas/) match what each operation costs now.

A failure names the system, the operation, the committed and the measured gas. If the change is
intended, run `python tools/snapshots.py write` (`make snapshots`) and commit snapshots/gas/.
"""

import pytest

from tools import gas_snapshot

SYSTEMS = [s.system for s in gas_snapshot.SCENARIOS]


@pytest.mark.parametrize("scenario", gas_snapshot.SCENARIOS, ids=SYSTEMS)
def test_gas_snapshot_matches(chain, scenario):
    committed = gas_snapshot.committed(scenario.system)
    assert committed, f"no snapshots/gas/{scenario.system}.json: run `make snapshots`"
    measured = gas_snapshot.measure(scenario)
    diffs = gas_snapshot.differences(scenario.system, committed, measured)
    assert not diffs, (
        "gas changed (if intended: `make snapshots` and commit snapshots/gas/):\n"
        + "\n".join(diffs)
    )


def test_every_system_has_one_snapshot_file():
    files = sorted(p.stem for p in gas_snapshot.GAS_SNAPSHOTS.glob("*.json"))
    assert files == sorted(SYSTEMS)


def test_a_scenario_leaves_the_node_as_it_found_it(chain, accounts):
    w3 = chain.provider.web3
    deployer = accounts[0]
    block, nonce = w3.eth.block_number, deployer.nonce
    before = w3.eth.get_block("latest")["timestamp"]
    with gas_snapshot.deterministic_chain():
        assert deployer.nonce == gas_snapshot.DEPLOYER_NONCE
        chain.mine()
        assert w3.eth.get_block("latest")["timestamp"] == gas_snapshot.START_TIME + 1
    assert (w3.eth.block_number, deployer.nonce) == (block, nonce)
    chain.mine()
    assert w3.eth.get_block("latest")["timestamp"] >= before


def test_differences_name_operation_old_and_new_gas():
    old = {"deposit (warm)": 69_297, "claim": 37_860, "gone": 1}
    new = {"deposit (warm)": 69_310, "claim": 37_860, "added": 5}
    assert gas_snapshot.differences("bridge", old, new) == [
        "bridge: added: new operation, 5 gas (no snapshot)",
        "bridge: deposit (warm): 69,297 -> 69,310 gas (+13)",
        "bridge: gone: in the snapshot (1 gas), no longer measured",
    ]
    assert gas_snapshot.differences("bridge", old, dict(old)) == []
