"""Governance figures: upgrade delay, exit window and L2BEAT stage of a governance deployment.

    python bench/governance.py        (env: SOLCX_BINARY_PATH, PATH, PYTHONPATH as for the tests)

Deploys the Security Council (9 members, threshold 7), the ExitWindowTimelock and, as the exitTime
views the rollups will expose, two MockGovernedRollup stand-ins configured with the rollups'
current production parameters (offchain.deploy.DeployParams). Writes bench/results/governance.json.
"""

from __future__ import annotations

from dataclasses import asdict, replace

from bench.common import local_node, print_table, write_results


def main() -> None:
    with local_node():
        _run()


def _run() -> None:
    from ape import accounts, project
    from eth_account import Account

    from offchain.deploy import DeployParams
    from offchain.governance.deploy import GovernanceParams, deploy_stack
    from offchain.governance.stage import Facts, requirements, stage, stage_if_wired

    p = DeployParams()
    g = GovernanceParams()
    deployer = accounts.test_accounts[0]
    members = [Account.from_key(bytes([i + 1]) * 32).address for i in range(9)]
    zero = "0x0000000000000000000000000000000000000000"

    def optimistic(timelock, council):
        return deployer.deploy(
            project.MockGovernedRollup,
            timelock,
            council,
            p.forced_inclusion_delay,
            p.challenge_period,
            g.max_pause,
            g.pause_needs_proven_bug,
        )

    def zk(timelock, council):
        return deployer.deploy(
            project.MockGovernedRollup,
            timelock,
            council,
            p.zk_freeze_period,
            0,
            g.max_pause,
            g.pause_needs_proven_bug,
        )

    s = deploy_stack(project, deployer, members, 7, [deployer.address], [zero], g, [optimistic, zk])
    exit_time = s.timelock.delayFloor() - s.timelock.margin()
    delay = s.timelock.getMinDelay()
    facts = Facts(
        wired=False,
        upgrade_delay_s=delay,
        exit_time_s=exit_time,
        council_members=len(s.council.members()),
        council_threshold=s.council.threshold(),
        council_needs_proven_bug=s.systems[0].pauseNeedsProvenBug(),
        permissionless_proofs=True,  # Rollup.proveFraud and ZkRollup.submitBatch take anyone
        forced_exit=True,  # Rollup.forceTransaction/freeze/exitFrozen, ZkRollup.exit
    )
    # the zk rollup's keys come from a single-party development setup today (docs/zk.md)
    zk_facts = replace(facts, exit_time_s=s.systems[1].exitTime(), zk=True, trusted_setup_ok=False)
    reqs = requirements(facts)
    print_table(
        "Governance (stand-in systems with the rollups' production parameters)",
        ["figure", "value"],
        [
            ("optimistic exit time (forced inclusion + challenge)", f"{exit_time} s"),
            ("zk exit time (freeze period)", f"{s.systems[1].exitTime()} s"),
            ("upgrade delay (timelock minimum)", f"{delay} s"),
            ("exit window (delay - exit time)", f"{delay - exit_time} s"),
            ("stage once wired: optimistic rollup", stage_if_wired(facts)),
            ("stage once wired: zk rollup (single-party keys)", stage_if_wired(zk_facts)),
            ("stage reached now", stage(facts)),
        ],
    )
    print_table(
        "Stage checklist", ["stage", "requirement", "met"], [(r.stage, r.text, r.met) for r in reqs]
    )
    write_results(
        "governance",
        {
            "upgrade_delay_s": delay,
            "exit_window_s": delay - exit_time,
            "exit_time_s": exit_time,
            "l2beat_stage": stage(facts),
            "l2beat_stage_once_wired": {
                "optimistic": stage_if_wired(facts),
                "zk": stage_if_wired(zk_facts),
            },
            "wired": False,
            "note": (
                "The timelock and council are deployed and measured, but the governed systems "
                "are MockGovernedRollup stand-ins with the rollups' current parameters: Rollup, "
                "ZkRollup and the bridges are not yet behind proxies owned by the timelock and "
                "do not expose exitTime(). So no stage is reached by this governance until the "
                "wiring lands (docs/governance.md, Wiring plan): l2beat_stage is 0. "
                "l2beat_stage_once_wired also assumes the council's members are >= 50% outside "
                "the team, which no contract can check (checklist entry with met null). The zk "
                "rollup stays at 0 once wired while its Groth16 keys come from a single-party "
                "development setup (L2BEAT noRedTrustedSetups)."
            ),
            "parameters": {
                "forced_inclusion_delay_s": p.forced_inclusion_delay,
                "challenge_period_s": p.challenge_period,
                "zk_freeze_period_s": p.zk_freeze_period,
                "margin_s": g.margin,
                "max_pause_s": g.max_pause,
                "council": f"{facts.council_threshold}-of-{facts.council_members}",
            },
            "checklist": [asdict(r) for r in reqs],
            "checklist_zk": [asdict(r) for r in requirements(zk_facts)],
        },
    )


if __name__ == "__main__":
    main()
