"""Property on Anvil: whatever sequence of governed changes a proposer tries, the timelock's delay
never falls below the longest exit time plus the margin, and every operation that got scheduled
waited at least that long."""

import contextlib

import ape
import pytest
from gov_helpers import CP, FID, MARGIN, ZERO32, advance
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HOUR = 3600
action = st.one_of(
    st.tuples(st.just("challenge"), st.integers(0, 20).map(lambda h: CP + (h - 10) * HOUR)),
    st.tuples(st.just("forced"), st.integers(0, 20).map(lambda h: FID + (h - 10) * HOUR)),
    st.tuples(st.just("zk"), st.integers(0, 20).map(lambda h: (h - 10) * HOUR + FID + CP)),
    st.tuples(st.just("delay"), st.integers(-5, 5).map(lambda h: FID + CP + MARGIN + h * HOUR)),
    st.tuples(st.just("short"), st.integers(1, 5 * HOUR)),
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@pytest.mark.slow  # hypothesis on Anvil
@given(actions=st.lists(action, min_size=1, max_size=4))
def test_delay_never_below_the_exit_window(chain, gov, proposer, actions):
    tl = gov.timelock
    # chain.isolate() would swallow a failing assertion: snapshot and restore by hand
    snapshot = chain.snapshot()
    try:
        for n, (kind, value) in enumerate(actions):
            salt = n.to_bytes(32, "big")
            if kind == "short":  # an attempt to schedule under the floor
                with ape.reverts(tl.DelayBelowExitWindow):
                    tl.schedule(gov.rollup, 0, b"", ZERO32, salt, tl.delayFloor() - value,
                                sender=proposer)  # fmt: skip
                continue
            target, data = {
                "challenge": (gov.rollup, gov.rollup.setChallengePeriod.encode_input(value)),
                "forced": (gov.rollup, gov.rollup.setForcedInclusionDelay.encode_input(value)),
                "zk": (gov.zk, gov.zk.setForcedInclusionDelay.encode_input(value)),
                "delay": (tl, tl.updateDelay.encode_input(value)),
            }[kind]
            delay = tl.getMinDelay()
            tx = tl.schedule(target, 0, data, ZERO32, salt, delay, sender=proposer)
            op = tx.events.filter(tl.CallScheduled)[0]
            assert op.delay >= tl.delayFloor()
            advance(chain, delay)
            # a refused change (the rule that refuses it is tested by name in test_gov_timelock)
            # a refused change (the rule that refuses it is tested by name in test_gov_timelock)
            with contextlib.suppress(ape.exceptions.ContractLogicError):
                tl.execute(target, 0, data, ZERO32, salt, sender=proposer)
            longest = max(gov.rollup.exitTime(), gov.zk.exitTime())
            assert tl.delayFloor() == longest + MARGIN
            assert tl.configuredDelay() >= tl.delayFloor()
            assert tl.getMinDelay() >= longest + MARGIN
    finally:
        chain.restore(snapshot)
