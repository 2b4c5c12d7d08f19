"""Class: the validator never goes quiet (pure watch logic). Every batch that becomes final was
either checked while it could still be disputed, or is named in an alarm."""

from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.validator.watch import Observation, Watch, observe


def h(i: int, version: int = 0) -> bytes:
    return bytes([i % 256, version]) * 16


def hashes(n: int) -> tuple[bytes, ...]:
    return tuple(h(i) for i in range(n))


def test_silent_finality_class_checked_in_time_raises_nothing():
    w, s = observe(Watch(), Observation(hashes(2), finalized=0, verified=2))
    assert not s.alarms and s.lag == 0
    w, s = observe(w, Observation(hashes(3), finalized=2, verified=3))
    assert not s.alarms and s.finalized_unchecked == ()


def test_silent_finality_class_batches_final_while_down_are_alarmed_and_sticky():
    w, _ = observe(Watch(), Observation(hashes(1), finalized=0, verified=1))
    # down: batches 1 and 2 were posted and became final
    w, s = observe(w, Observation(hashes(3), finalized=3, verified=3))
    assert s.finalized_unchecked == (1, 2) and s.new_alarms
    assert "1-2 became final" in s.new_alarms[0]
    w, s = observe(Watch.from_json(w.to_json()), Observation(hashes(3), finalized=3, verified=3))
    assert not s.new_alarms and s.alarms and s.finalized_unchecked_count == 2  # sticky


def test_silent_finality_class_fresh_validator_reports_final_history():
    _, s = observe(Watch(), Observation(hashes(2), finalized=2, verified=2))
    assert s.finalized_unchecked == (0, 1)


def test_silent_finality_class_reposted_index_is_a_new_batch():
    w, _ = observe(Watch(), Observation(hashes(2), finalized=0, verified=2))
    reposted = (h(0), h(1, version=1))  # batch 1 rolled back and reposted while down
    _, s = observe(w, Observation(reposted, finalized=2, verified=2))
    assert s.finalized_unchecked == (1,)


def test_unreadable_batch_class_blocks_every_later_batch():
    obs = Observation(hashes(5), finalized=0, verified=2, unreadable=(2, "not canonical"))
    w, s = observe(Watch(), obs)
    assert s.unreadable == {"index": 2, "reason": "not canonical"}
    assert s.blocked == (3, 4) and s.lag == 3 and len(s.new_alarms) == 2
    # they become final without ever being checked
    _, s = observe(w, Observation(hashes(5), finalized=5, verified=2, unreadable=(2, "x")))
    assert s.finalized_unchecked == (2, 3, 4)


def test_final_fraud_class_is_an_alarm():
    _, s = observe(Watch(), Observation(hashes(3), finalized=0, verified=1, fraud=1))
    assert s.final_fraud is None and not s.alarms  # still provable: the service proves it
    w, _ = observe(Watch(), Observation(hashes(3), finalized=0, verified=1, fraud=1))
    _, s = observe(w, Observation(hashes(3), finalized=2, verified=1, fraud=1))
    assert s.final_fraud == 1 and "too late" in " ".join(s.new_alarms)


@st.composite
def timelines(draw):
    """Observations of one growing rollup (no rollbacks): count and finality only grow; each
    check gets as far as it gets (an unreadable batch stops it)."""
    n = draw(st.integers(1, 12))
    steps = []
    count = finalized = 0
    for _ in range(draw(st.integers(1, 8))):
        count = draw(st.integers(count, n))
        finalized = draw(st.integers(finalized, count))
        verified = draw(st.integers(0, count))
        unreadable = (verified, "x") if verified < count else None
        steps.append(Observation(hashes(count), finalized, verified, unreadable=unreadable))
    return steps


@settings(max_examples=300)
@given(timelines())
def test_silent_finality_class_no_final_batch_goes_unreported(steps):
    watch = Watch()
    judged_in_time: set[int] = set()
    for obs in steps:
        before = set(judged_in_time)
        watch, status = observe(watch, obs)
        reported = set(status.finalized_unchecked)
        for i in range(obs.finalized):
            # a final batch was checked while not final, or it is reported: never both, never none
            assert (i in before) != (i in reported), (i, before, reported)
        judged_in_time |= {i for i in range(obs.finalized, obs.verified)}
        assert status.lag == len(obs.batch_hashes) - obs.verified
