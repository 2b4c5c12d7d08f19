"""Checkpoints against a real rollup on Anvil: resume equals the replay from genesis, reads are
incremental, and a rollback, a repost or an L1 reorg that removed the checkpoint's batch
invalidates it (falling back to an older one or genesis); another deployment's is refused."""

import logging
from dataclasses import replace

from rollup_helpers import BOND, empty_proof, lie, post_empty

from offchain.bridge import DepositQueueBroken
from offchain.rollup.checkpoint import Checkpoint, anchor_of, check_anchor, resume
from offchain.rollup.replay import replay
from offchain.rollup.wallet import sign_transfer

ETH_1 = 10**18


def _full(env):
    return replay(
        env.l1.posted_batches(),
        env.l1.deposit_queue(),
        env.dst,
        env.l1.forced_queue(),
        keys=env.l1.key_history(),
    )


def _post_transfers(env, op, n):
    if env.l1.registry.functions.keyCount(env.accounts[1].address).call() == 0:
        env.register(1)
    for k in range(n):
        env.deposit_eth(1 + k % 3, ETH_1)
        txs = []
        if len(op.state.accounts) >= 2:
            a = op.state.account(0)
            txs.append(sign_transfer(env.bls(1), env.dst, 0, 1, 10**15, 0, a.nonce))
        op.step(txs)


def test_resume_equals_replay_from_genesis_and_reads_only_new_batches(env):
    env.bond(0)
    op = env.operator()
    _post_transfers(env, op, 3)
    first, ck = resume(env.l1, env.dst, None)
    assert ck is not None and ck.batches == 3 and first.batches_ok == 3
    assert ck.root == op.state.root == first.state.root
    _post_transfers(env, op, 2)
    seen = []
    real = env.l1.read_batches

    def spy(count=None, start=0, from_block=0):
        seen.append((start, from_block))
        return real(count, start, from_block)

    env.l1.read_batches = spy
    again, ck2 = resume(env.l1, env.dst, Checkpoint.from_bytes(ck.to_bytes()))
    env.l1.read_batches = real
    full = _full(env)
    assert seen == [(3, ck.anchor.block_number)]  # batches 0..2 are not read again
    assert again.batches_ok == full.batches_ok == 5
    assert again.state.root == full.state.root and again.state.accounts == full.state.accounts
    assert ck2.batches == 5 and ck2.root == full.state.root
    # nothing new: the same checkpoint comes back, nothing replayed
    same, ck3 = resume(env.l1, env.dst, ck2)
    assert ck3 is ck2 and same.batches_ok == 5


def test_rollback_above_the_checkpoint_keeps_it_rollback_below_invalidates_it(env, caplog):
    env.bond(0)
    env.bond(1, 3 * BOND)
    op = env.operator()
    _post_transfers(env, op, 2)
    _, ck = resume(env.l1, env.dst, None)
    bad = post_empty(env, 1, lie(1))  # batch 2: a lie
    post_empty(env, 1)  # batch 3, built on it
    reading = env.l1.read_batches(None, 3)
    above = anchor_of(env.l1, reading, 3)  # an anchor on top of the lie (what a broken
    assert check_anchor(env.l1, above) is None  # validator would have checkpointed)
    env.signer(2).send(env.l1.rollup.functions.proveFraud(empty_proof(env, bad, lie(1)).as_abi()))
    assert env.l1.rollup.functions.batchCount().call() == 2
    assert check_anchor(env.l1, ck.anchor) is None  # the rollback was above it
    assert "no longer live" in check_anchor(env.l1, above)
    # a new batch at index 3 after the rollback: the old anchor at 3 never matches again
    env.bond(0, 3 * BOND)
    post_empty(env, 0)
    post_empty(env, 0)
    assert "not the checkpoint's" in check_anchor(env.l1, above)
    result, ck2 = resume(env.l1, env.dst, ck)
    assert result.fraud is None and ck2.batches == 4 and ck2.root == _full(env).state.root


def _snapshot(env):
    return env.w3.provider.make_request("evm_snapshot", [])["result"]


def _revert(env, snap):
    assert env.w3.provider.make_request("evm_revert", [snap])["result"]


def test_reorg_that_removed_its_posting_invalidates_it_and_falls_back(env, caplog):
    env.bond(0)
    op = env.operator()
    _post_transfers(env, op, 2)
    _, older = resume(env.l1, env.dst, None)
    snap = _snapshot(env)
    state_before = op.state.copy()
    _post_transfers(env, op, 2)
    _, newer = resume(env.l1, env.dst, older)
    assert newer.batches == 4
    _revert(env, snap)  # the reorg: both postings are gone
    op.state = state_before
    assert "no longer live" in check_anchor(env.l1, newer.anchor)
    with caplog.at_level(logging.WARNING, logger="l2kit.checkpoint"):
        result, ck = resume(env.l1, env.dst, newer, older=[older])
    assert ck is older and result.batches_ok == 2
    assert any("refused: batch 3 is no longer live" in r.getMessage() for r in caplog.records)
    # the same index reposted in another block (same data, later time): still refused
    env.bond(0, 3 * BOND)
    snap = _snapshot(env)
    post_empty(env, 0)
    _, at2 = resume(env.l1, env.dst, older)
    _revert(env, snap)
    env.advance(7)
    post_empty(env, 0)
    why = check_anchor(env.l1, at2.anchor)
    assert why is not None and ("not the checkpoint's" in why or "reorganised away" in why)
    with caplog.at_level(logging.WARNING, logger="l2kit.checkpoint"):
        result, ck = resume(env.l1, env.dst, at2, older=[])
    assert "replaying from genesis" in caplog.text
    assert ck.batches == 3 and result.state.root == _full(env).state.root


def test_checkpoint_of_another_deployment_is_refused_with_one_line(env):
    env.bond(0)
    op = env.operator()
    _post_transfers(env, op, 1)
    _, ck = resume(env.l1, env.dst, None)
    other_chain = replace(ck.anchor, chain_id=1)
    other_rollup = replace(ck.anchor, rollup="0x" + "99" * 20)
    for anchor in (other_chain, other_rollup):
        why = check_anchor(env.l1, anchor)
        assert why.startswith("it is for rollup") and "\n" not in why
    # a wrong state cannot even be built into a checkpoint (the root must be the batch's)
    wrong = ck.state()
    wrong.tree.set_leaf(5, b"\x01" * 32)
    try:
        Checkpoint.of(ck.anchor, wrong, 0, 0)
    except ValueError as e:
        assert "not the state after that batch" in str(e)
    else:
        raise AssertionError("a wrong state was accepted")


def test_incremental_queues_read_from_an_index(env):
    for k in range(4):
        env.deposit_eth(1, ETH_1 + k)
    whole = env.l1.read_deposit_queue()
    part = env.l1.read_deposit_queue(2, whole.blocks[2])
    assert part.entries == whole.entries[2:]
    too_late = whole.blocks[3]
    try:
        env.l1.read_deposit_queue(2, too_late)
    except (ValueError, DepositQueueBroken) as e:
        assert "deposit 2 is missing" in str(e)
    else:
        raise AssertionError("a read that missed deposit 2 passed")
