"""The validator's /status reports the timelock's scheduled operations: what each does, its
target, when it can execute and the time users have left to exit before it (docs/governance.md
§4.2), on the deployment `deploy_all` makes."""

from __future__ import annotations

import json
import urllib.request

from gov_helpers import advance, execute, now, schedule
from support.keys import private_key_bytes

from offchain.deploy import DeployParams, deploy_all
from offchain.l1.sender import SendPolicy
from offchain.validator.service import ValidatorService
from offchain.validator.status_http import status_server


def test_status_reports_scheduled_changes_and_the_time_left_to_exit(
    project, chain, accounts, deployer
):
    params = DeployParams(challenge_period=100, forced_inclusion_delay=300, liveness_period=1000)
    d = deploy_all(deployer, "ethereum:local", params)
    timelock = project.ExitWindowTimelock.at(d.address("Timelock"))
    gov = project.RollupGovernor.at(d.address("Rollup"))
    service = ValidatorService(
        chain.provider.uri,
        d.address("Rollup"),
        d.address("RollupBridge"),
        private_key_bytes(accounts[9]),
        SendPolicy(receipt_timeout=5, backoff=0.05),
        timelock=d.address("Timelock"),
    )
    service.check_once()
    service.publish()
    empty = service.snapshot()["status"]["governance"]
    exit_time = timelock.delayFloor() - timelock.margin()
    assert empty == {
        "timelock": timelock.address,
        "exit_time_s": exit_time,
        "exit_window_s": timelock.margin(),
        "scheduled": [],
    }

    data = gov.setChallengePeriod.encode_input(50)  # a cut: always allowed
    delay = timelock.getMinDelay()
    schedule(timelock, deployer, gov, data, delay)
    scheduled_at = now(chain)
    advance(chain, 3600)
    server = status_server(service, "127.0.0.1", 0)
    server.start()
    try:
        service.check_once()
        service.publish()
        with urllib.request.urlopen(f"{server.url}/status", timeout=5) as r:
            status = json.load(r)
    finally:
        server.stop()
    [op] = status["governance"]["scheduled"]
    eta = scheduled_at + delay
    assert op["status"] == "waiting" and op["eta"] == eta
    assert op["calls"] == [{"target": gov.address, "what": "setChallengePeriod(50)", "value": 0}]
    assert op["time_left_to_exit_s"] == eta - now(chain) - exit_time
    assert op["seconds_until_ready"] == eta - now(chain)
    assert not op["too_late_to_exit"]

    # past eta - exit_time a user can no longer be sure to be out: flagged; once executed it
    # leaves the list
    advance(chain, delay - 3600 - exit_time + 10)
    service.check_once()
    service.publish()
    [op] = service.snapshot()["status"]["governance"]["scheduled"]
    assert op["too_late_to_exit"] and op["time_left_to_exit_s"] < 0
    advance(chain, exit_time)
    execute(timelock, deployer, gov, data)
    service.check_once()
    service.publish()
    assert service.snapshot()["status"]["governance"]["scheduled"] == []
