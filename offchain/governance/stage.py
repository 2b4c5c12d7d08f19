"""Pure L2BEAT-style Stage assessment of a governance deployment, from facts read on chain.

The requirements (L2BEAT's stage checklist items in brackets), for the governance part:
  Stage 1: users exit without the operators [usersCanExitWithoutCooperation]; a Security
           Council of >= 8 members, threshold >= 75%, >= 50% outside the team
           [securityCouncilProperlySetUp];
           >= 7 days to exit after an upgrade by actors more centralized than the Council
           [usersHave7DaysToExit] (exit window = upgrade delay - time needed to exit); for a zk
           system, no "red" trusted setup [noRedTrustedSetups].
  Stage 2: fraud proof submission open to everyone [fraudProofSystemIsPermissionless]; upgrades
           unrelated to on-chain provable bugs give >= 30 days [delayWith30DExitWindow]; the Council
           acts only on adjudicable soundness errors [proofSystemOverriddenOnlyInCaseOfABug].
Protocol requirements that are not governance (permissionless proofs, forced inclusion, data on
L1) are passed in as facts, and `wired` says whether the rollups are actually governed.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY = 86_400


@dataclass(frozen=True)
class Facts:
    """What the assessment looks at."""

    wired: bool  # the real rollups/bridges are behind proxies owned by this timelock
    upgrade_delay_s: int  # the timelock's minimum delay
    exit_time_s: int  # longest exitTime() of the governed systems
    council_members: int
    council_threshold: int
    council_needs_proven_bug: bool  # pause (its only power over the rollups) needs a proven bug
    permissionless_proofs: bool  # anyone can prove fraud / submit validity proofs
    forced_exit: bool  # users exit without the operator (forced inclusion + freeze)
    zk: bool = False  # a validity-proof system (adds the trusted-setup requirement)
    trusted_setup_ok: bool = True  # zk keys from a multi-party ceremony, not a single party


@dataclass(frozen=True)
class Requirement:
    stage: int
    text: str
    #: None: organisational, not checkable on chain (a deployment must document it).
    met: bool | None


def requirements(f: Facts) -> list[Requirement]:
    """Each governance-relevant Stage requirement and whether the facts meet it."""
    window = f.upgrade_delay_s - f.exit_time_s
    council_ok = f.council_members >= 8 and f.council_threshold * 4 >= f.council_members * 3
    return [
        Requirement(
            1, "users can exit without the operator (forced inclusion, freeze)", f.forced_exit
        ),
        Requirement(1, "Security Council: >= 8 members, threshold >= 75%", council_ok),
        Requirement(1, "Security Council: >= 50% of members outside the team", None),
        Requirement(1, "exit window >= 7 days for non-Council upgrades", window >= 7 * DAY),
        *(
            [
                Requirement(
                    1, "no single-party (red) trusted setup for the zk keys", f.trusted_setup_ok
                )
            ]
            if f.zk
            else []
        ),
        Requirement(2, "proof system permissionless", f.permissionless_proofs),
        Requirement(2, "exit window >= 30 days", window >= 30 * DAY),
        Requirement(2, "Council acts only on bugs provable on chain", f.council_needs_proven_bug),
    ]


def stage_if_wired(f: Facts) -> int:
    """The highest stage whose on-chain checkable requirements (and all lower ones) the facts
    meet; organisational requirements (met is None) are the deployment's to document."""
    reqs = requirements(f)
    reached = 0
    for s in (1, 2):
        if all(r.met is not False for r in reqs if r.stage <= s):
            reached = s
    return reached


def stage(f: Facts) -> int:
    """The stage actually reached: 0 while the governance is not wired to the real contracts."""
    return stage_if_wired(f) if f.wired else 0
