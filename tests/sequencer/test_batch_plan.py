"""The batcher's v2 batch plan: every commitment it builds passes the signature dispute's check
(check_commitment_signature on its post-state), queue entries run before user txs, a sender's
withdraw-then-transfer is split across commitments, an invalid tx drops its sender's later txs."""

from offchain.bls import generate_secret_key, signing_dst
from offchain.rollup.codec import encode_forced_tx
from offchain.rollup.execute import Fault, commit, execute
from offchain.rollup.signatures import check_commitment_signature
from offchain.rollup.state import L2State
from offchain.rollup.types import QueuedDeposit, QueuedForced, Transfer, Withdraw
from offchain.rollup.wallet import sign_transfer, sign_withdraw
from offchain.sequencer.batch_plan import plan_batch
from offchain.sequencer.payload import StoredPayload

DST = signing_dst(31337, "0x" + "34" * 20)
TOKEN = "0x" + "aa" * 20
OWNERS = ["0x" + f"{k + 1:02x}" * 20 for k in range(4)]
SECRETS = [generate_secret_key() for _ in OWNERS]
KEYS = {o: s.public_key() for o, s in zip(OWNERS, SECRETS, strict=True)}


def funded() -> L2State:
    """Accounts 0..3 (owner k, 1000 each) after one deposit batch."""
    deposits = [QueuedDeposit(i, TOKEN, 1000, OWNERS[i]) for i in range(4)]
    plan = plan_batch(L2State(), deposits, (), (), 0)
    return plan.post_state


def t(sender, to, amount, nonce, fee=0):
    s = sign_transfer(SECRETS[sender], DST, sender, to, amount, fee, nonce)
    return StoredPayload(s.tx, nonce, s.signature)


def w(sender, amount, nonce, fee=0):
    s = sign_withdraw(SECRETS[sender], DST, sender, amount, fee, nonce)
    return StoredPayload(s.tx, nonce, s.signature)


def verdicts(state, plan):
    """The signature dispute's verdict on every commitment, re-executed on its own post-state
    (as a validator does from L1 data)."""
    out = []
    work = state.copy()
    for pc in plan.commitments:
        ex = execute(work, pc.commitment, pc.deposits, pc.forced)  # checks the posted root
        assert ex.ok, ex.fault
        commit(work, ex, pc.commitment.deposit_end)
        out.append(check_commitment_signature(pc.commitment, work, KEYS.get, DST))
    assert work.root == plan.post_root
    return out


def test_every_commitment_verifies_and_the_root_is_right():
    state = funded()
    txs = [t(0, 1, 10, 0), t(1, 2, 5, 0, fee=1), w(2, 7, 0), t(0, 3, 1, 1)]
    plan = plan_batch(state, (), (), txs, 0)
    assert plan.dropped == ()
    assert sorted(plan.included) == [0, 1, 2, 3]
    assert verdicts(state, plan) == [Fault.NONE] * len(plan.commitments)
    assert plan.post_state.account(0).balance == 1000 - 11 + 1  # fee account 0 got the fee
    assert plan.post_state.account(2).balance == 1000 + 5 - 7


def test_a_withdraw_then_a_transfer_of_one_sender_are_split():
    """In one commitment the transfer would run first, with the withdraw's nonce."""
    state = funded()
    plan = plan_batch(state, (), (), [w(1, 3, 0), t(1, 2, 4, 1)], 0)
    assert len(plan.commitments) == 2
    assert verdicts(state, plan) == [Fault.NONE, Fault.NONE]


def test_an_invalid_tx_drops_its_senders_later_txs_only():
    state = funded()
    txs = [t(0, 1, 5000, 0), t(0, 1, 1, 1), t(2, 3, 1, 0), t(0, 1, 1, 2)]
    plan = plan_batch(state, (), (), txs, 0)
    assert [p for p, _ in plan.dropped] == [0, 1, 3]
    assert "OVERSPEND" in plan.dropped[0][1]
    assert plan.included == [2]
    assert verdicts(state, plan) == [Fault.NONE]


def test_a_tx_signed_for_another_nonce_is_never_posted():
    state = funded()
    plan = plan_batch(state, (), (), [t(0, 1, 5, 3), t(2, 1, 5, 0)], 0)
    assert plan.included == [1] and plan.dropped[0][0] == 0 and "nonce" in plan.dropped[0][1]
    assert verdicts(state, plan) == [Fault.NONE]


def test_queue_entries_come_first_in_their_own_commitments():
    state = funded()
    forced = [QueuedForced(0, OWNERS[1], encode_forced_tx(Transfer(1, 2, 999, 0)))]
    deposits = [QueuedDeposit(4, TOKEN, 50, OWNERS[3])]
    # the user tx of account 1 was admitted after the forced tx drained it: dropped
    plan = plan_batch(state, deposits, forced, [t(1, 2, 5, 0), t(3, 0, 5, 0)], 0)
    first = plan.commitments[0].commitment
    assert first.deposits and first.forced and not first.transfers
    assert first.forced[0].applied
    assert [p for p, _ in plan.dropped] == [0]
    assert plan.post_state.account(3).balance == 1000 + 50 - 5


def test_a_forced_tx_of_a_stranger_is_skipped():
    state = funded()
    forced = [QueuedForced(0, OWNERS[2], encode_forced_tx(Withdraw(1, 10, 0)))]
    plan = plan_batch(state, (), forced, (), 0)
    assert not plan.commitments[0].commitment.forced[0].applied
    assert plan.post_state.account(1).balance == 1000


def test_full_commitments_and_nothing_to_post():
    state = funded()
    txs = [t(0, 1, 1, n) for n in range(40)]
    plan = plan_batch(state, (), (), txs, 0)
    assert [len(c.tx_positions) for c in plan.commitments] == [32, 8]
    assert verdicts(state, plan) == [Fault.NONE, Fault.NONE]
    nothing = plan_batch(state, (), (), [t(0, 1, 5000, 0)], 0)
    assert nothing.commitments == () and nothing.post_root == state.root
    assert [p for p, _ in nothing.dropped] == [0]
