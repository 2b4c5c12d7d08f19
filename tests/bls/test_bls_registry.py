"""BLSKeyRegistry on Anvil: registration, rotation with key history, and every revert path."""

from __future__ import annotations

import ape
import pytest
from ape.exceptions import ContractLogicError
from bls_helpers import ACTIVATION_DELAY, g2_struct, malformed_g2

from offchain import bls


def _key(seed: int) -> tuple[int, ...]:
    return g2_struct(bls.SecretKey(seed).public_key().eip2537())


def _hash(registry, key) -> bytes:
    return bytes(registry.hashKey(key))


def test_zero_activation_delay_reverts(project, deployer):
    with ape.reverts(project.BLSKeyRegistry.ZeroActivationDelay):
        deployer.deploy(project.BLSKeyRegistry, 0)


def test_registered_key_takes_effect_after_the_delay(registry, alice, chain):
    key = _key(11)
    tx = registry.register(key, sender=alice)
    from_block = tx.block_number + ACTIVATION_DELAY
    [event] = tx.events
    assert event.owner == alice.address and event.index == 0 and event.fromBlock == from_block
    assert tuple(int(w) for w in event.key) == key
    assert bytes(event.keyHash) == _hash(registry, key)
    assert registry.keyCount(alice) == 1
    with ape.reverts(registry.NoKeyAt, owner=alice.address, blockNumber=from_block - 1):
        registry.keyHashAt(alice, from_block - 1)
    assert bytes(registry.keyHashAt(alice, from_block)) == _hash(registry, key)


def test_identity_key_reverts(registry, alice):
    with ape.reverts(registry.IdentityKey):
        registry.register((0,) * 8, sender=alice)


@pytest.mark.parametrize("kind", ["off_curve", "padding_not_zero", "x_not_reduced", "off_subgroup"])
def test_malformed_key_reverts(registry, alice, kind):
    bad = malformed_g2(bls.SecretKey(3).public_key().eip2537())[kind]
    with ape.reverts(registry.InvalidKey):
        registry.register(g2_struct(bad), sender=alice)
    assert registry.keyCount(alice) == 0


def test_registering_the_newest_key_again_reverts(registry, alice):
    registry.register(_key(5), sender=alice)
    with ape.reverts(registry.KeyUnchanged):
        registry.register(_key(5), sender=alice)


def test_rotation_keeps_history_so_old_blocks_keep_their_key(registry, alice, chain):
    k1, k2 = _key(21), _key(22)
    b1 = registry.register(k1, sender=alice).block_number + ACTIVATION_DELAY
    chain.mine(ACTIVATION_DELAY)
    b2 = registry.register(k2, sender=alice).block_number + ACTIVATION_DELAY
    assert b2 > b1
    chain.mine(ACTIVATION_DELAY)
    assert registry.keyCount(alice) == 2
    for block, key in [(b1, k1), (b2 - 1, k1), (b2, k2), (b2 + 100, k2)]:
        assert bytes(registry.keyHashAt(alice, block)) == _hash(registry, key)
    record = registry.keyRecord(alice, 0)
    assert bytes(record.keyHash) == _hash(registry, k1) and record.fromBlock == b1


def test_pending_key_replaced_in_the_same_block_leaves_one_record(registry, alice, chain):
    """Two registrations in one block: the second replaces the first, which was never valid."""
    w3 = chain.provider.web3
    k1, k2 = _key(31), _key(32)
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        hashes = [
            w3.eth.send_transaction(
                {
                    "from": alice.address,
                    "to": registry.address,
                    "data": registry.register.as_transaction(k, sender=alice, gas=300_000).data,
                    "gas": 300_000,
                }
            )
            for k in (k1, k2)
        ]
        w3.provider.make_request("evm_mine", [])
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    receipts = [w3.eth.get_transaction_receipt(h) for h in hashes]
    assert all(r.status == 1 for r in receipts)
    assert receipts[0].blockNumber == receipts[1].blockNumber
    assert registry.keyCount(alice) == 1
    chain.mine(ACTIVATION_DELAY)
    fb = receipts[0].blockNumber + ACTIVATION_DELAY
    assert bytes(registry.keyHashAt(alice, fb)) == _hash(registry, k2)


def test_checked_key_at_returns_the_matching_key_and_refuses_another(registry, alice, bob, chain):
    key = _key(41)
    block = registry.register(key, sender=alice).block_number + ACTIVATION_DELAY
    chain.mine(ACTIVATION_DELAY)
    assert tuple(int(w) for w in registry.checkedKeyAt(alice, block, key)) == key
    with ape.reverts(registry.KeyMismatch, owner=alice.address, blockNumber=block):
        registry.checkedKeyAt(alice, block, _key(42))
    with ape.reverts(registry.NoKeyAt, owner=bob.address, blockNumber=block):
        registry.checkedKeyAt(bob, block, key)


def test_a_copied_key_gives_the_copier_nothing(registry, alice, bob, chain):
    """Bob registers Alice's public key as his own: allowed (no proof of possession), but a
    signature Alice makes for her account (sender index in the message) verifies for no other
    account, and Bob cannot sign at all."""
    alice_sk = bls.SecretKey(51)
    key = g2_struct(alice_sk.public_key().eip2537())
    registry.register(key, sender=alice)
    registry.register(key, sender=bob)
    dst = bls.signing_dst(chain.chain_id, registry.address)
    alice_msg = bls.signing_message(1, 0, b"pay 5 to 2")
    sig = bls.sign(alice_sk, alice_msg, dst)
    bob_msg = bls.signing_message(2, 0, b"pay 5 to 2")
    assert bls.verify(alice_sk.public_key(), alice_msg, sig, dst)
    assert not bls.verify(alice_sk.public_key(), bob_msg, sig, dst)


def test_key_history_rebuilt_from_events_alone_matches_the_contract(registry, alice, bob, chain):
    """The off-chain reader (offchain.bls.registry) gives, for every block, the key the contract
    says is valid, from the KeyRegistered logs only."""
    from offchain.bls import registry as reader

    w3 = chain.provider.web3
    start = chain.blocks.head.number
    registry.register(_key(61), sender=alice)
    chain.mine(1)
    registry.register(_key(71), sender=bob)
    chain.mine(ACTIVATION_DELAY)
    registry.register(_key(62), sender=alice)
    chain.mine(ACTIVATION_DELAY + 1)
    end = chain.blocks.head.number
    logs = w3.eth.get_logs({"address": registry.address, "fromBlock": start, "toBlock": end})
    history = reader.build(reader.decode_key_registered(log["topics"], log["data"]) for log in logs)
    for owner in (alice, bob):
        for block in range(start, end + 1):
            pk = history.key_at(owner.address, block)
            try:
                on_chain = bytes(registry.keyHashAt(owner, block))
            except ContractLogicError:  # NoKeyAt
                on_chain = None
            expected = None if pk is None else bytes(registry.hashKey(bls.g2_words(pk.eip2537())))
            assert expected == on_chain
    assert history.key_at(alice.address, end) == bls.SecretKey(62).public_key()


def test_key_history_reader_refuses_foreign_or_out_of_order_logs():
    from eth_abi import encode
    from eth_utils import keccak

    from offchain.bls import registry as reader

    words = bls.g2_words(bls.SecretKey(5).public_key().eip2537())
    key_hash = keccak(b"".join(w.to_bytes(32, "big") for w in words))
    owner = bytes(12) + bytes.fromhex("11" * 20)
    data = encode(reader._DATA_TYPES, [1, 10, key_hash, words])
    entry = reader.decode_key_registered([reader.KEY_REGISTERED_TOPIC, owner], data)
    with pytest.raises(bls.BLSError, match="chain order"):
        reader.build([entry])
    with pytest.raises(bls.BLSError, match="topics"):
        reader.decode_key_registered([keccak(b"other"), owner], data)
    forged = encode(reader._DATA_TYPES, [0, 10, bytes(32), words])
    with pytest.raises(bls.BLSError, match="keyHash"):
        reader.decode_key_registered([reader.KEY_REGISTERED_TOPIC, owner], forged)
