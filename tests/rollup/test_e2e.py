"""End to end on Anvil: deposits, an honest batch, finality, withdrawal and claim."""

import ape
from rollup_helpers import BOND, CHALLENGE_PERIOD, ETH
from support.reverts import call_reverts

from offchain.rollup.wallet import sign_transfer, sign_withdraw


def test_deposit_transfer_withdraw_claim(env):
    env.bond(0)
    env.register(1, 2)
    for i in (1, 2):
        env.deposit_eth(i, 10**18)
    op = env.operator()
    _, _ = op.step([])
    dst = env.dst
    txs = [
        sign_transfer(env.bls(1), dst, 0, 1, 3 * 10**17, 0, 0),
        sign_withdraw(env.bls(2), dst, 1, 5 * 10**17, 0, 0),
    ]
    batch, _ = op.step(txs)
    assert batch.rejected == ()
    assert env.rollup.batchCount() == 2
    # a validator sees no fraud and rebuilds the operator's state from L1 alone
    result, receipt = env.validator().challenge()
    assert result.fraud is None and receipt is None
    assert result.state.root == op.state.root
    assert env.rollup.head()[0] == op.state.root
    claim = result.withdrawals[0]
    assert claim.amount == 5 * 10**17 and claim.owner == env.addr(2)
    call_reverts(
        env.rollup, "BatchNotFinal", "finalizeWithdrawal", claim.as_abi(), sender=env.accounts[5]
    )
    env.advance(CHALLENGE_PERIOD)
    env.rollup.finalizeWithdrawal(claim.as_abi(), sender=env.accounts[5])
    assert env.bridge.claimable(env.addr(2), ETH) == 5 * 10**17
    with ape.reverts(env.bridge.AlreadyReleased):
        env.rollup.finalizeWithdrawal(claim.as_abi(), sender=env.accounts[5])
    before = env.accounts[2].balance
    env.bridge.claim(ETH, env.accounts[2], sender=env.accounts[2], gas_price=0)
    assert env.accounts[2].balance == before + 5 * 10**17
    assert env.rollup.lastFinalizedRoot() == op.state.root
    # each batch locked its own bond (the operator topped up before the second); both are
    # released once final, and the whole bond comes out
    call_reverts(
        env.rollup,
        "NothingToWithdraw",
        "withdrawBond",
        2 * BOND + 1,
        env.accounts[0],
        sender=env.accounts[0],
    )
    env.rollup.withdrawBond(2 * BOND, env.accounts[0], sender=env.accounts[0])
    assert env.rollup.bondOf(env.accounts[0]) == 0
    assert env.rollup.lockedBondOf(env.accounts[0]) == 0


def test_erc20_round_trip_and_operator_restart(env, tmp_path):
    """Token deposits, a transfer and a withdrawal; the operator restarts from its saved state."""
    from offchain.rollup.honest_proposer import HonestProposer

    env.bond(0)
    env.register(1, 2)
    env.deposit_token(1, 5 * 10**18)
    env.deposit_token(2, 10**18)
    store = tmp_path / "l2state.json"
    op = HonestProposer.resume(env.l1, env.signer(0), store)
    op.step([])
    token = env.token.address.lower()
    assert op.state.account(0).token == token
    # restart: the state comes back from disk, root checked
    op = HonestProposer.resume(env.l1, env.signer(0), store)
    assert op.state.root == env.rollup.head()[0]
    dst = env.dst
    op.step(
        [
            sign_transfer(env.bls(1), dst, 0, 1, 2 * 10**18, 0, 0),
            sign_withdraw(env.bls(2), dst, 1, 3 * 10**18, 0, 0),
        ]
    )
    result = env.validator().check()
    assert result.fraud is None and result.state.root == op.state.root
    env.advance(CHALLENGE_PERIOD)
    env.rollup.finalizeWithdrawal(result.withdrawals[0].as_abi(), sender=env.accounts[5])
    env.bridge.claim(env.token, env.accounts[2], sender=env.accounts[2])
    assert env.token.balanceOf(env.accounts[2]) == 3 * 10**18
    assert env.bridge.liabilities(env.token) == 3 * 10**18 == op.state.total_balance(token)


def test_corrupt_saved_state_is_refused(tmp_path):
    import json

    import pytest

    from offchain.rollup.state import L2State
    from offchain.rollup.store import CorruptState, load_state, save_state
    from offchain.rollup.types import Account

    state = L2State()
    acc = Account("0x" + "11" * 20, ETH, 5, 0)
    state.accounts[0] = acc
    state.tree.set_leaf(0, acc.leaf_hash())
    path = tmp_path / "s.json"
    save_state(state, path)
    assert load_state(path).root == state.root
    body = json.loads(path.read_text())
    body["accounts"]["0"] = Account("0x" + "11" * 20, ETH, 6, 0).packed().hex()
    path.write_text(json.dumps(body))
    with pytest.raises(CorruptState, match="resync"):
        load_state(path)


def test_honest_batch_survives_every_proof_attempt(env):
    """Both disputes against every commitment of an honest batch (transfers, withdraws,
    repeated senders, a fee) revert NotFraudulent, proven directly or through commit-reveal."""
    from rollup_helpers import assert_reverts

    from offchain.rollup.execute import execute
    from offchain.rollup.proofs import fraud_proof, signature_proof
    from offchain.rollup.replay import keys_at_block

    env.bond(0)
    env.register(1, 2, 3)
    for i in (1, 2, 3):
        env.deposit_eth(i, 10**18)
    op = env.operator(fee_account=2)
    op.step([])
    pre = op.state.copy()
    dst = env.dst
    txs = [
        sign_transfer(env.bls(1), dst, 0, 1, 10**17, 10**3, 0),
        sign_transfer(env.bls(1), dst, 0, 2, 10**16, 0, 1),
        sign_transfer(env.bls(2), dst, 1, 0, 10**15, 5, 0),
        sign_withdraw(env.bls(3), dst, 2, 10**17, 0, 0),
        sign_withdraw(env.bls(1), dst, 0, 10**15, 0, 2),
    ]
    batch, _ = op.step(txs)
    assert batch.rejected == ()
    index = env.rollup.batchCount() - 1
    result = env.validator().check()
    assert result.fraud is None
    cs = [b.commitment for b in batch.commitments]
    keys = keys_at_block(env.l1.key_history(), env.l1.batch_record(index).posted_block)
    state = pre
    f = env.l1.rollup.functions
    for ci, bc in enumerate(batch.commitments):
        ex = execute(state, bc.commitment, bc.deposits, bc.forced)
        assert ex.ok
        state_proof = fraud_proof(index, cs, ci, bc.deposits, ex, bc.forced)
        assert_reverts(
            env.l1.rollup,
            f.proveFraud(state_proof.as_abi()),
            "NotFraudulent",
            env.accounts[9].address,
        )
        state.tree = ex.tree  # the post-state (overlay) for the signature evidence
        state.accounts.update(ex.writes)
        sig_proof = signature_proof(index, cs, ci, state, keys)
        assert_reverts(
            env.l1.rollup,
            f.proveSignatureFraud(sig_proof.as_abi()),
            "NotFraudulent",
            env.accounts[9].address,
        )
    assert env.rollup.batchCount() == index + 1


def test_a_signature_for_another_chain_rollup_nonce_or_sender_is_refused(env):
    """Each replayed signature makes the commitment's aggregate fail: the validator proves it
    with the signature dispute (BAD_SIGNATURE) and the batch is rolled back."""
    from offchain.bls import signing_dst
    from offchain.rollup.builder import build_batch
    from offchain.rollup.codec import encode_batch
    from offchain.rollup.execute import Fault
    from offchain.rollup.signatures import aggregate_commitment

    env.bond(0)
    env.bond(4, 5 * BOND)
    env.register(1, 2)
    for i in (1, 2):
        env.deposit_eth(i, 10**18)
    op = env.operator()
    op.step([])
    chain = int(env.w3.eth.chain_id)
    rollup = env.rollup.address
    other_rollup = "0x" + "ab" * 20
    implementation = env.deployment.address("RollupImplementation")
    cases = {
        # the bug of the first proxied Rollup: a tag bound to the implementation's address
        "implementation": sign_transfer(
            env.bls(1), signing_dst(chain, implementation), 0, 1, 10, 0, 0
        ),
        "other chain": sign_transfer(env.bls(1), signing_dst(chain + 1, rollup), 0, 1, 10, 0, 0),
        "other rollup": sign_transfer(env.bls(1), signing_dst(chain, other_rollup), 0, 1, 10, 0, 0),
        "other nonce": sign_transfer(env.bls(1), env.dst, 0, 1, 10, 0, 7),
        # account 1's owner signs "sender 0 pays": a signature for another sender
        "other sender": sign_transfer(env.bls(2), env.dst, 0, 1, 10, 0, 0),
    }
    for name, tx in cases.items():
        built, _ = build_batch(op.state, [], [tx])
        c = built.commitments[0].commitment
        assert c.signature == aggregate_commitment([tx])
        env.signer(4).send(f_post(env, op.state.root, encode_batch([c])))
        result, receipt = env.validator(9).challenge()
        assert result.fraud is not None and result.fraud.is_signature_fraud, name
        assert result.fraud.fault == Fault.BAD_SIGNATURE, name
        logs = env.l1.rollup.events.FraudProven().process_receipt(receipt)
        assert logs[0]["args"]["fault"] == Fault.BAD_SIGNATURE.value, name
        assert env.rollup.head()[0] == op.state.root, name


def f_post(env, pre_root, data):
    return env.l1.rollup.functions.postBatch(pre_root, data)


def test_the_signing_tag_binds_the_proxy_users_send_to(env, project):
    """Users sign for the deployment file's Rollup (the proxy); the chain checks that tag, and
    not one bound to the implementation that created the SignatureDispute."""
    from offchain.bls import signing_dst

    proxy, implementation = env.rollup.address, env.deployment.address("RollupImplementation")
    assert proxy != implementation
    tag = signing_dst(int(env.w3.eth.chain_id), proxy)
    assert env.dst == tag == bytes(project.RollupGovernor.at(proxy).signingDst())
    dispute = project.SignatureDispute.at(env.rollup.signatureDispute())
    assert bytes(dispute.signingDst(proxy)) == tag
    assert bytes(dispute.signingDst(implementation)) != tag
