"""The scenario the exit window exists for: a malicious change is scheduled, the watcher shows it
with the time left, and every user exits with all funds before it can execute."""

from eth_utils import to_checksum_address
from gov_helpers import CP, FID, MARGIN, advance, execute, now, schedule

from offchain.governance.chain import TimelockReader
from offchain.governance.watch import Status, pending


def test_every_user_exits_before_a_malicious_change_executes(
    chain, gov, proposer, attacker, accounts
):
    users = accounts[6:10]
    deposits = {u.address: (i + 1) * 10**18 for i, u in enumerate(users)}
    for u in users:
        gov.rollup.deposit(value=deposits[u.address], sender=u)
    total = sum(deposits.values())
    assert gov.rollup.balance == total

    # the malicious upgrade: take everything still in the rollup
    sweep = gov.rollup.sweep.encode_input(attacker)
    delay = gov.timelock.getMinDelay()
    schedule(gov.timelock, proposer, gov.rollup, sweep, delay)
    scheduled_at = now(chain)

    # the watcher sees it, decoded, with the time users have left to start exiting
    advance(chain, 3600)
    reader = TimelockReader(chain.provider.web3, gov.timelock.address)
    report = reader.report()
    assert report.exit_time == FID + CP and report.margin == MARGIN
    [change] = pending(report.changes)
    assert change.status is Status.WAITING
    assert change.decoded[0].signature == "sweep(address)"
    assert change.decoded[0].args == (to_checksum_address(attacker.address),)
    assert change.ready_at == scheduled_at + delay == gov.timelock.getTimestamp(change.id)
    assert change.time_left_to_exit == scheduled_at + delay - report.now - (FID + CP)
    assert change.time_left_to_exit == MARGIN - 3600
    assert "sweep(" in change.describe() and "left to start an exit" in change.describe()

    # every user reacts within the margin: forced withdrawal, then completion after exitTime
    for u in users:
        gov.rollup.requestExit(sender=u)
    advance(chain, gov.rollup.exitTime())
    before = {u.address: u.balance for u in users}
    for u in users:
        tx = gov.rollup.completeExit(sender=u)
        assert u.balance == before[u.address] + deposits[u.address] - tx.total_fees_paid
    assert gov.rollup.balance == 0
    assert now(chain) < change.ready_at  # all out before the change can execute

    # the change executes when its delay is over, and finds nothing to take
    advance(chain, change.ready_at - now(chain))
    attacker_before = attacker.balance
    tx = execute(gov.timelock, proposer, gov.rollup, sweep)
    assert attacker.balance == attacker_before  # swept 0 wei: every user was already out
    assert tx.events.filter(gov.timelock.CallExecuted)
    done = TimelockReader(chain.provider.web3, gov.timelock.address).report().changes
    assert [c.status for c in done] == [Status.DONE]


def test_watcher_reports_a_cancelled_change_as_cancelled(chain, gov, proposer, deployer):
    from gov_helpers import council_call

    data = gov.rollup.sweep.encode_input(deployer)
    tx = schedule(gov.timelock, proposer, gov.rollup, data, gov.timelock.getMinDelay())
    op = tx.events.filter(gov.timelock.CallScheduled)[0].id
    council_call(chain, gov.council, deployer, gov.timelock, gov.timelock.cancel.encode_input(op))
    report = TimelockReader(chain.provider.web3, gov.timelock.address).report()
    assert [c.status for c in report.changes] == [Status.CANCELLED]
    assert pending(report.changes) == []


def test_watcher_flags_a_change_too_late_to_exit(chain, gov, proposer):
    data = gov.rollup.postBatch.encode_input()
    delay = gov.timelock.getMinDelay()
    schedule(gov.timelock, proposer, gov.rollup, data, delay)
    advance(chain, MARGIN + 60)  # a user who only looks now cannot be sure to be out in time
    [change] = TimelockReader(chain.provider.web3, gov.timelock.address).report().changes
    assert change.status is Status.WAITING
    assert -70 <= change.time_left_to_exit <= -60
    assert "TOO LATE" in change.describe()


def test_one_shot_watch_cli_exits_2_when_a_change_is_too_late(chain, gov, proposer, capsys):
    from offchain.governance.watch import main

    args = ["--rpc", chain.provider.uri, "--timelock", gov.timelock.address]
    assert main(args) == 0
    schedule(gov.timelock, proposer, gov.rollup, gov.rollup.postBatch.encode_input(),
             gov.timelock.getMinDelay())  # fmt: skip
    assert main(args) == 0
    assert "1 pending" in capsys.readouterr().out
    advance(chain, MARGIN + 1)
    assert main(args) == 2
    assert "TOO LATE" in capsys.readouterr().out
