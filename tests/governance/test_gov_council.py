"""SecurityCouncil: L2BEAT membership rules, EIP-712 approvals, replay safety, self-only changes."""

import ape
import pytest
from eth_account import Account
from gov_helpers import COUNCIL, COUNCIL_KEYS, THRESHOLD, council_call, now, sign_call

from offchain.governance.council import approve, call_digest, domain_separator, ordered


@pytest.fixture
def council(project, deployer):
    return deployer.deploy(project.SecurityCouncil, COUNCIL, THRESHOLD)


@pytest.fixture
def target(project, deployer, council):
    # a mock whose pauser is the council and whose timelock is the deployer (stands in here)
    return deployer.deploy(project.MockGovernedRollup, deployer, council, 1, 1, 3600, False)


def _pause(target):
    return target.pausePosting.encode_input(60)


def test_python_digest_matches_the_contract(chain, council, target):
    data = _pause(target)
    deadline = now(chain) + 100
    ours = call_digest(chain.chain_id, council.address, target.address, data, 0, deadline)
    assert council.callDigest(target, data, 0, deadline) == ours
    assert council.domainSeparator() == domain_separator(chain.chain_id, council.address)


def test_threshold_approvals_execute_and_move_the_nonce(chain, council, target, deployer):
    tx = council_call(chain, council, deployer, target, _pause(target))
    assert target.postingPaused()
    assert council.actionNonce() == 1
    assert tx.events.filter(council.Executed)[0].target == target.address


@pytest.mark.parametrize(
    ("members", "threshold"),
    [(7, 6), (8, 5), (9, 6), (8, 9), (8, 0)],
    ids=["too-few-members", "below-75pct-of-8", "below-75pct-of-9", "above-members", "zero"],
)
def test_constructor_enforces_l2beat_rules(project, deployer, members, threshold):
    with ape.reverts(project.SecurityCouncil.BadThreshold):
        deployer.deploy(project.SecurityCouncil, COUNCIL[:members], threshold)


def test_constructor_accepts_exactly_75_percent(project, deployer):
    c = deployer.deploy(project.SecurityCouncil, COUNCIL[:8], 6)
    assert c.threshold() == 6


def test_constructor_refuses_duplicate_and_zero_members(project, deployer):
    with ape.reverts(project.SecurityCouncil.BadMember):
        deployer.deploy(project.SecurityCouncil, [*COUNCIL[:8], COUNCIL[0]], 7)
    with ape.reverts(project.SecurityCouncil.BadMember):
        zero = "0x0000000000000000000000000000000000000000"
        deployer.deploy(project.SecurityCouncil, [*COUNCIL[:8], zero], 7)


def test_fewer_approvals_than_the_threshold_are_refused(chain, council, target, deployer):
    deadline, sigs = sign_call(chain, council, target.address, _pause(target))
    with ape.reverts(council.NotEnoughApprovals, given=THRESHOLD - 1, needed=THRESHOLD):
        council.execute(target, _pause(target), deadline, sigs[:-1], sender=deployer)


def test_an_approval_cannot_be_replayed(chain, council, target, deployer):
    data = _pause(target)
    deadline, sigs = sign_call(chain, council, target.address, data)
    council.execute(target, data, deadline, sigs, sender=deployer)
    with ape.reverts(council.BadApproval):
        council.execute(target, data, deadline, sigs, sender=deployer)


def test_duplicate_or_unordered_signers_are_refused(chain, council, target, deployer):
    data = _pause(target)
    deadline, sigs = sign_call(chain, council, target.address, data)
    with ape.reverts(council.BadApproval):
        council.execute(target, data, deadline, [sigs[0], *sigs[:-1]], sender=deployer)
    with ape.reverts(council.BadApproval):
        council.execute(target, data, deadline, list(reversed(sigs)), sender=deployer)


def test_a_non_member_approval_is_refused(chain, council, target, deployer):
    outsider = bytes([0xAA]) * 32
    data = _pause(target)
    deadline, sigs = sign_call(
        chain, council, target.address, data, keys=[*COUNCIL_KEYS[: THRESHOLD - 1], outsider]
    )
    with ape.reverts(council.BadApproval):
        council.execute(target, data, deadline, sigs, sender=deployer)


def test_expired_approvals_are_refused(chain, council, target, deployer):
    data = _pause(target)
    deadline, sigs = sign_call(chain, council, target.address, data, deadline=now(chain) - 1)
    with ape.reverts(council.Expired):
        council.execute(target, data, deadline, sigs, sender=deployer)


def test_approvals_for_another_council_are_refused(project, chain, council, target, deployer):
    other = deployer.deploy(project.SecurityCouncil, COUNCIL, THRESHOLD)
    data = _pause(target)
    deadline = now(chain) + 3600
    digest = call_digest(chain.chain_id, other.address, target.address, data, 0, deadline)
    sigs = ordered([approve(k, digest) for k in COUNCIL_KEYS[:THRESHOLD]])
    with ape.reverts(council.BadApproval):
        council.execute(target, data, deadline, sigs, sender=deployer)


def test_approvals_for_another_chain_are_refused(chain, council, target, deployer):
    data = _pause(target)
    deadline = now(chain) + 3600
    digest = call_digest(chain.chain_id + 1, council.address, target.address, data, 0, deadline)
    sigs = ordered([approve(k, digest) for k in COUNCIL_KEYS[:THRESHOLD]])
    with ape.reverts(council.BadApproval):
        council.execute(target, data, deadline, sigs, sender=deployer)


def test_a_failing_call_reverts_and_keeps_the_nonce(chain, council, target, deployer):
    data = target.setChallengePeriod.encode_input(5)  # council is not the timelock
    with ape.reverts(council.CallFailed):
        council_call(chain, council, deployer, target, data)
    assert council.actionNonce() == 0


def test_members_change_only_through_the_council(chain, council, deployer):
    with ape.reverts(council.OnlyCouncil):
        council.addMember(deployer, 8, sender=deployer)
    with ape.reverts(council.OnlyCouncil):
        council.removeMember(COUNCIL[0], 7, sender=deployer)
    with ape.reverts(council.OnlyCouncil):
        council.changeThreshold(9, sender=deployer)


def test_add_and_remove_members_keep_the_rules(chain, council, deployer):
    new = Account.from_key(bytes([0x55]) * 32).address
    # 10 members need 8 approvals: 7 is refused
    with ape.reverts(council.CallFailed):
        council_call(chain, council, deployer, council, council.addMember.encode_input(new, 7))
    council_call(chain, council, deployer, council, council.addMember.encode_input(new, 8))
    assert council.isMember(new) and council.threshold() == 8 and len(council.members()) == 10
    keys = COUNCIL_KEYS[:8]
    council_call(
        chain, council, deployer, council, council.removeMember.encode_input(new, 7), keys=keys
    )
    assert not council.isMember(new) and len(council.members()) == 9
    # removing down to 7 members breaks the 8-member floor
    data = council.removeMember.encode_input(COUNCIL[0], 6)
    council_call(
        chain, council, deployer, council, council.removeMember.encode_input(COUNCIL[8], 6)
    )
    with ape.reverts(council.CallFailed):
        council_call(chain, council, deployer, council, data, keys=COUNCIL_KEYS[:6])


def test_a_removed_member_can_no_longer_approve(chain, council, deployer, target):
    council_call(
        chain, council, deployer, council, council.removeMember.encode_input(COUNCIL[0], 6)
    )
    with ape.reverts(council.BadApproval):
        council_call(chain, council, deployer, target, _pause(target), keys=COUNCIL_KEYS[:6])
    council_call(chain, council, deployer, target, _pause(target), keys=COUNCIL_KEYS[1:7])
    assert target.postingPaused()
