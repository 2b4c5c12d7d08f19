"""The validator service catches a dishonest batch from L1 data alone and rolls it back."""

from operator_helpers import BOND, fund

from offchain.operator.l1_sender import SendPolicy
from offchain.operator.validator_service import ValidatorService
from offchain.rollup import adversary
from offchain.rollup.codec import encode_batch
from offchain.rollup.l1 import Signer

ONE = 10**18


def key_of(account) -> bytes:
    return bytes.fromhex(account.private_key.removeprefix("0x"))


def test_stolen_funds_batch_is_proven_and_rolled_back(
    chain, contracts, make_batcher, accounts, alice, bob, carol
):
    bridge, rollup = contracts
    fund(bridge, alice, 3 * ONE)
    fund(bridge, bob, ONE)
    batcher = make_batcher()
    assert batcher.post_if_due(force=True) == 0  # honest: the deposits
    watcher = ValidatorService(
        chain.provider.uri,
        rollup.address,
        bridge.address,
        key_of(carol),
        SendPolicy(receipt_timeout=5, backoff=0.05),
    )
    assert watcher.check_once() is None and watcher.stats.batches_verified == 1
    assert watcher.check_once() is None and watcher.stats.checks == 1  # head unchanged: no work

    # A second, bonded proposer posts a batch moving alice's funds to bob with bob's signature.
    cheat = accounts[4]
    rollup.bond(value=BOND, sender=cheat)
    state = batcher.confirmed
    commitments = adversary.steal(state, batcher.separator, key_of(bob), 0, 1, 2 * ONE)
    Signer(batcher.w3, key_of(cheat)).send(
        batcher.l1.rollup.functions.postBatch(state.root, encode_batch(commitments))
    )
    assert rollup.batchCount() == 2

    proof_tx = watcher.check_once()
    assert proof_tx is not None and watcher.stats.frauds_proven == 1
    assert rollup.batchCount() == 1  # rolled back
    assert rollup.bondOf(cheat) == 0 and rollup.lockedBondOf(cheat) == 0  # slashed
    # the service committed before revealing: the bounty is carol's, paid after the claim window
    (bounty,) = batcher.l1.bounties_for(1, bytes(rollup.bounties(0).batchHash))
    assert bounty.recipient == carol.address
    assert bounty.amount == BOND * rollup.CHALLENGER_SHARE_BPS() // 10_000
    assert watcher.check_once() is None  # the head is honest again
    assert watcher.stats.batches_verified == 1
    # The honest batcher carries on from the restored head.
    batcher.track_finality()
    assert batcher.post_if_due(force=False) is None


def test_front_run_reveal_still_pays_the_service(
    chain, contracts, make_batcher, accounts, alice, bob, carol
):
    """A copier gets a plain proveFraud in between the service's commit and its reveal: the
    rollback happens anyway, the reveal fails, and the service claims the bounty with its
    earlier commitment."""
    bridge, rollup = contracts
    fund(bridge, alice, 3 * ONE)
    batcher = make_batcher()
    batcher.post_if_due(force=True)
    watcher = ValidatorService(
        chain.provider.uri,
        rollup.address,
        bridge.address,
        key_of(carol),
        SendPolicy(receipt_timeout=5, backoff=0.05, max_attempts=2),
    )
    cheat, copier = accounts[4], Signer(batcher.w3, key_of(accounts[5]))
    rollup.bond(value=BOND, sender=cheat)
    state = batcher.confirmed
    commitments = adversary.steal(state, batcher.separator, key_of(bob), 0, 0, ONE)
    Signer(batcher.w3, key_of(cheat)).send(
        batcher.l1.rollup.functions.postBatch(state.root, encode_batch(commitments))
    )
    proof = watcher.validator.check().fraud.proof
    reveal = watcher.l1.rollup.encode_abi(
        "revealFraud", args=[proof.as_abi(), carol.address, b"\0" * 32]
    )
    send = watcher._send

    def copier_first(data, gas=None):
        if data[:10] == reveal[:10]:
            copier.send(watcher.l1.rollup.functions.proveFraud(proof.as_abi()))
        return send(data, gas)

    watcher._send = copier_first
    assert watcher.check_once() is None  # its own reveal failed: the copier was first
    assert rollup.batchCount() == 1  # rolled back all the same
    (bounty,) = watcher.l1.bounties_for(1, bytes(rollup.bounties(0).batchHash))
    assert bounty.recipient == carol.address
