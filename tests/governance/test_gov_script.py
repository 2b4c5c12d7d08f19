"""`ape run governance` drives the timelock for real: propose, inspect, execute, cancel, as
separate processes against the test's Anvil node."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from gov_helpers import CP, FID, advance, deploy

ROOT = Path(__file__).resolve().parents[2]
APE = str(Path(sys.executable).with_name("ape"))


def _ape(chain, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, APE_FOUNDRY_HOST=chain.provider.uri)
    return subprocess.run(
        [APE, "run", "governance", *args, "--network", "ethereum:local:foundry"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.slow
def test_propose_inspect_execute_and_cancel_through_the_script(project, chain, deployer):
    gov = deploy(project, deployer, deployer)  # the script's local sender is test account 0
    tl = gov.timelock.address
    new_cp = str(CP - 3600)
    r = _ape(chain, "propose", "--timelock", tl, "--target", gov.rollup.address,
             "--function", "setChallengePeriod(uint256)", new_cp)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    op_id = r.stdout.split("scheduled ")[1].split(":")[0]

    r = _ape(chain, "inspect", "--timelock", tl)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"longest exit {FID + CP}s" in r.stdout
    assert f"setChallengePeriod({new_cp})" in r.stdout and "left to start an exit" in r.stdout

    advance(chain, gov.timelock.getMinDelay())
    r = _ape(chain, "execute", "--timelock", tl, op_id)
    assert r.returncode == 0, r.stdout + r.stderr
    assert gov.rollup.challengePeriod() == int(new_cp)

    r = _ape(chain, "propose", "--timelock", tl, "--target", gov.rollup.address,
             "--function", "postBatch()", "--delay", "60")  # fmt: skip
    assert r.returncode != 0 and "below the exit-window floor" in r.stdout + r.stderr

    r = _ape(chain, "propose", "--timelock", tl, "--target", gov.rollup.address,
             "--function", "postBatch()")  # fmt: skip
    op2 = r.stdout.split("scheduled ")[1].split(":")[0]
    r = _ape(chain, "cancel", "--timelock", tl, op2)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not gov.timelock.isOperation(op2)
