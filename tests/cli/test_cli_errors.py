"""Bad input to every command: one clear line on stderr, a non-zero exit, and nothing sent on L1
(the signer's nonce does not move)."""

from __future__ import annotations

import json

import pytest
from conftest import key_of

from offchain.cli.keys import KeySource
from offchain.cli.session import Options, SendRefused, Session
from offchain.deployments import Deployment, save_deployment

NO_BATCHER = "http://127.0.0.1:9"  # the discard port: nothing listens there
HASH = "0x" + "ab" * 32


def assert_one_line_error(result, *needles: str) -> str:
    assert result.exit_code != 0, result.output
    assert result.stdout == "", result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("l2kit: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


CASES = [
    # (name, args, extra env, words the error must contain)
    ("malformed amount", ["rollup", "deposit", "1,5", "--yes"], {}, ["not an amount"]),
    ("negative amount", ["rollup", "deposit", "-1", "--yes"], {}, ["(see `"]),
    ("too many decimals", ["rollup", "deposit", "1.5wei", "--yes"], {}, ["more decimals"]),
    ("unknown unit", ["rollup", "deposit", "1btc", "--yes"], {}, ["unknown unit"]),
    (
        "insufficient L1 balance",
        ["rollup", "deposit", "100000000", "--yes"],
        {},
        ["insufficient balance"],
    ),
    ("no confirmation without a terminal", ["rollup", "deposit", "1"], {}, ["--yes"]),
    (
        "unknown Ape account",
        ["rollup", "deposit", "1", "--yes", "--account", "nosuch"],
        {},
        ["no Ape account 'nosuch'", "ape accounts import"],
    ),
    (
        "missing keyfile",
        ["rollup", "deposit", "1", "--yes", "--keyfile", "/nonexistent.json"],
        {},
        ["no keyfile"],
    ),
    (
        "malformed key",
        ["rollup", "deposit", "1", "--yes"],
        {"L2KIT_KEY": "0x1234"},
        ["not a private key"],
    ),
    (
        "key out of range",
        ["rollup", "deposit", "1", "--yes"],
        {"L2KIT_KEY": "0x" + "ff" * 32},
        ["out of the secp256k1 key range"],
    ),
    (
        "unknown token",
        ["rollup", "deposit", "1", "--yes", "--token", "FOO"],
        {},
        ["unknown token 'FOO'"],
    ),
    (
        "bad recipient",
        ["rollup", "deposit", "1", "--yes", "--to", "0x12"],
        {},
        ["not an Ethereum recipient"],
    ),
    (
        "no deployment",
        ["rollup", "deposit", "1", "--yes", "--network", "ethereum:holesky"],
        {},
        ["no deployment for ethereum:holesky", "ape run deploy"],
    ),
    (
        "node not running",
        ["rollup", "deposit", "1", "--yes", "--rpc", "http://127.0.0.1:9"],
        {},
        ["cannot reach the node"],
    ),
    (
        "batcher not running (balance)",
        ["rollup", "balance", "--batcher", NO_BATCHER],
        {},
        ["no batcher at", "ape run batcher"],
    ),
    (
        "batcher not running (transfer)",
        ["rollup", "transfer", "1", "0.1", "--yes", "--batcher", NO_BATCHER],
        {},
        ["no batcher at"],
    ),
    (
        "batcher not running (withdraw)",
        ["rollup", "withdraw", "0.1", "--yes", "--batcher", NO_BATCHER],
        {},
        ["no batcher at"],
    ),
    (
        "batcher not running (finalize)",
        ["rollup", "finalize", HASH, "--batcher", NO_BATCHER],
        {},
        ["no batcher at"],
    ),
    (
        "batcher not running (deposit --wait)",
        ["rollup", "deposit", "1", "--wait", "--yes", "--batcher", NO_BATCHER],
        {},
        ["no batcher at"],
    ),
    ("malformed tx hash", ["rollup", "finalize", "0x1234"], {}, ["not a transaction hash"]),
    ("nothing to claim", ["rollup", "claim"], {}, ["nothing to claim"]),
    (
        "force without an L2 account",
        ["rollup", "force", "withdraw", "0.1", "--yes"],
        {},
        ["no L2 ETH account"],
    ),
    (
        "force with wrong arguments",
        ["rollup", "force", "transfer", "0.1", "--yes"],
        {},
        ["force transfer takes"],
    ),
    ("exit while live", ["rollup", "exit", "--yes"], {}, ["the rollup is live"]),
    ("refund while live", ["rollup", "refund", "--yes"], {}, ["the rollup is live"]),
    (
        "exit from a missing checkpoint",
        ["rollup", "exit", "--checkpoint", "/nonexistent/ck.bin", "--yes"],
        {},
        ["cannot read checkpoint file /nonexistent/ck.bin"],
    ),
    (
        "exit from a file that is no checkpoint",
        ["rollup", "exit", "--checkpoint", __file__, "--yes"],
        {},
        ["is neither a checkpoint file nor"],
    ),
    ("unbond without a bond", ["operator", "unbond", "1"], {}, ["your bond is 0 ETH"]),
    ("reward without a reward", ["operator", "reward"], {}, ["no challenger reward"]),
    (
        "bond more than held",
        ["operator", "bond", "100000000", "--yes"],
        {},
        ["insufficient balance"],
    ),
    ("unknown command", ["rollup", "teleport"], {}, ["No such command"]),
]


@pytest.mark.parametrize("args,env,needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_nonzero_exit_and_sends_nothing(l2kit, w3, alice, args, env, needles):
    before = w3.eth.get_transaction_count(alice.address)
    env = {"L2KIT_KEY": key_of(alice), **env}
    result = l2kit.run(*args, **env)
    assert_one_line_error(result, *needles)
    assert w3.eth.get_transaction_count(alice.address) == before


def test_wrong_network_is_refused_before_sending(l2kit, w3, alice, tmp_path, deployment):
    # A deployment file for another chain, pointed at this node: the chain id check refuses it.
    save_deployment(
        Deployment(11155111, "ethereum:sepolia", 0, dict(deployment.contracts)), tmp_path
    )
    before = w3.eth.get_transaction_count(alice.address)
    result = l2kit.run(
        "rollup",
        "deposit",
        "1",
        "--yes",
        "--network",
        "ethereum:sepolia:node",
        "--rpc",
        l2kit.rpc,
        key=key_of(alice),
    )
    assert_one_line_error(result, "wrong network", "chain 31337", "chain 11155111")
    assert w3.eth.get_transaction_count(alice.address) == before


def test_a_revert_is_caught_at_estimation_named_and_not_sent(l2kit, w3, alice):
    # withdrawBond(1, 0x0) reverts ZeroDestination(): Session.send must refuse before sending.
    opts = Options("ethereum:local", None, NO_BATCHER, KeySource(), True, False, l2kit.deployments)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("L2KIT_KEY", key_of(alice))
        s = Session(opts)
        before = w3.eth.get_transaction_count(alice.address)
        call = s.contract("Rollup").functions.withdrawBond(1, "0x" + "00" * 20)
        with pytest.raises(SendRefused, match=r"would revert with ZeroDestination\(\)"):
            s.send(call, 0, "withdrawBond")
        call = s.contract("Rollup").functions.withdrawBond(5, alice.address)
        with pytest.raises(SendRefused, match=r"NothingToWithdraw"):
            s.send(call, 0, "withdrawBond")
    assert w3.eth.get_transaction_count(alice.address) == before


def test_errors_as_a_process_have_no_traceback(l2kit, alice):
    proc = l2kit.process("rollup", "deposit", "lots", "--yes", key=key_of(alice))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "l2kit: error: 'lots' is not an amount: write e.g. 0.5, 1.5gwei or 1000wei "
        "(no sign, no commas)"
    ]


def test_read_commands_need_no_key(l2kit, bob):
    result = l2kit.run("operator", "status", bob.address, "--json", "--batcher", NO_BATCHER)
    assert result.exit_code == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["bond"] == "0" and status["required_bond"] == str(10**18)
    assert status["batcher"] is None and "no batcher at" in result.stderr
