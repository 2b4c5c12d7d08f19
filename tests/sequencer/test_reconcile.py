"""The restart decision (offchain/sequencer/reconcile.py) on its own: every case of a stored
batch against what L1 says."""

from offchain.sequencer.reconcile import Action, BatchRecord, L1View, reconcile

R0, R1, R2, R3, X = (bytes([n]) * 32 for n in (0, 1, 2, 3, 9))


def rec(index, status, pre, post):
    return BatchRecord(index, status, pre, post)


def actions(plan):
    return {s.index: s.action for s in plan.steps}


def test_intent_mined_before_the_restart_is_marked_posted():
    plan = reconcile([rec(0, "intent", R0, R1)], L1View(1, {0: R1}, R1))
    assert actions(plan) == {0: Action.MARK_POSTED}


def test_intent_not_mined_at_the_head_is_resent():
    plan = reconcile([rec(0, "posted", R0, R1), rec(1, "intent", R1, R2)], L1View(1, {0: R1}, R1))
    assert actions(plan) == {0: Action.KEEP, 1: Action.RESEND}


def test_intent_on_a_root_l1_no_longer_has_is_rolled_back():
    # L1's head moved (another proposer's batch 1 landed on R1 -> R3): the intent built on R1 at
    # index 1 is superseded, its txs return to pending.
    plan = reconcile([rec(1, "intent", R1, R2)], L1View(2, {1: R3}, R3))
    assert actions(plan) == {1: Action.ROLL_BACK}
    assert "superseded" in plan.steps[0].reason


def test_intent_at_the_right_index_on_the_wrong_pre_root_is_rolled_back():
    plan = reconcile([rec(1, "intent", X, R2)], L1View(1, {}, R1))
    assert actions(plan) == {1: Action.ROLL_BACK}


def test_posted_batch_removed_by_a_fraud_proof_is_rolled_back_newest_first():
    stored = [rec(0, "posted", R0, R1), rec(1, "posted", R1, R2), rec(2, "intent", R2, R3)]
    plan = reconcile(stored, L1View(1, {0: R1}, R1))
    assert [(s.index, s.action) for s in plan.steps] == [
        (2, Action.ROLL_BACK),
        (1, Action.ROLL_BACK),
        (0, Action.KEEP),
    ]


def test_store_ahead_of_l1():
    plan = reconcile([rec(3, "posted", R2, R3)], L1View(2, {}, R2))
    assert actions(plan) == {3: Action.ROLL_BACK} and "ahead" in plan.steps[0].reason


def test_l1_ahead_of_the_store_changes_nothing_and_names_the_foreign_batches():
    plan = reconcile([rec(0, "final", R0, R1)], L1View(3, {0: R1, 1: R2, 2: R3}, R3))
    assert actions(plan) == {0: Action.KEEP}
    assert plan.foreign == (1, 2)


def test_a_batch_rolled_back_before_a_crash_is_deleted():
    plan = reconcile([rec(4, "rolled_back", R0, R1)], L1View(4, {}, R0))
    assert actions(plan) == {4: Action.DELETE}


def test_posted_batch_with_another_root_on_l1_is_rolled_back():
    plan = reconcile([rec(0, "posted", R0, R1)], L1View(1, {0: X}, X))
    assert actions(plan) == {0: Action.ROLL_BACK}


def test_empty_store_plans_nothing():
    assert reconcile([], L1View(0, {}, R0)).steps == ()


# -- the batches of one blob posting (one transaction: all on L1 or none) ------------------------


def test_a_chain_of_intents_at_the_head_is_resent_whole():
    stored = [rec(1, "intent", R1, R2), rec(2, "intent", R2, R3), rec(3, "intent", R3, X)]
    plan = reconcile([rec(0, "posted", R0, R1), *stored], L1View(1, {0: R1}, R1))
    assert actions(plan) == {
        0: Action.KEEP,
        1: Action.RESEND,
        2: Action.RESEND,
        3: Action.RESEND,
    }


def test_a_chain_of_intents_mined_before_the_restart_is_marked_posted_whole():
    stored = [rec(0, "intent", R0, R1), rec(1, "intent", R1, R2)]
    plan = reconcile(stored, L1View(2, {0: R1, 1: R2}, R2))
    assert actions(plan) == {0: Action.MARK_POSTED, 1: Action.MARK_POSTED}


def test_an_intent_that_breaks_the_chain_and_every_later_one_are_rolled_back():
    # Intent 2 does not build on intent 1's post-root: it and 3 (built on it) cannot be resent.
    stored = [rec(1, "intent", R1, R2), rec(2, "intent", X, R3), rec(3, "intent", R3, X)]
    plan = reconcile(stored, L1View(1, {}, R1))
    assert actions(plan) == {1: Action.RESEND, 2: Action.ROLL_BACK, 3: Action.ROLL_BACK}


def test_a_chain_with_a_gap_resends_only_up_to_the_gap():
    stored = [rec(1, "intent", R1, R2), rec(3, "intent", R2, R3)]
    plan = reconcile(stored, L1View(1, {}, R1))
    assert actions(plan) == {1: Action.RESEND, 3: Action.ROLL_BACK}


def test_a_chain_whose_first_intent_is_not_at_the_head_is_rolled_back_whole():
    stored = [rec(2, "intent", R1, R2), rec(3, "intent", R2, R3)]
    plan = reconcile(stored, L1View(1, {}, R1))
    assert actions(plan) == {2: Action.ROLL_BACK, 3: Action.ROLL_BACK}
