"""Format v2 admission on a pending ledger: BLS signatures checked per group (batched; a bad one
among good ones is named, the others admitted), the key valid now from the registry's history
(no key, rotation pending refused), resend vs duplicate, the stored payload."""

import threading

import pytest

from offchain.bls import generate_secret_key, signing_dst
from offchain.bls.registry import KeyEntry, KeyHistory, build
from offchain.rollup.types import Account, Transfer, Withdraw
from offchain.rollup.wallet import sign_transfer, sign_withdraw
from offchain.sequencer.core import Rejected, Sequencer
from offchain.sequencer.ledger import Ledger
from offchain.sequencer.optimistic_admission import LedgerAdmission
from offchain.sequencer.payload import PayloadError, decode_payload, encode_payload, tx_id
from offchain.sequencer.signing_keys import KeyBook, fold
from offchain.sequencer.store import OperatorStore

DST = signing_dst(31337, "0x" + "12" * 20)
OTHER_DST = signing_dst(1, "0x" + "12" * 20)
OWNERS = ["0x" + f"{k + 1:02x}" * 20 for k in range(4)]
TOKEN = "0x" + "aa" * 20
SECRETS = [generate_secret_key() for _ in OWNERS]
HEAD = 100


def entry(owner: str, index: int, from_block: int, secret) -> KeyEntry:
    from eth_utils import to_checksum_address

    return KeyEntry(to_checksum_address(owner), index, from_block, b"", secret.public_key())


def book(head: int = HEAD) -> KeyBook:
    # owners 0..2 have keys in effect; owner 3 none
    history = build(entry(OWNERS[i], 0, 10, SECRETS[i]) for i in range(3))
    return KeyBook(history, head)


class Admission(LedgerAdmission):
    mode = "optimistic"
    proposer = "0x" + "00" * 20

    def __init__(self, store, keys: KeyBook):
        self.store = store
        self.dst = DST
        self.frozen = False
        self._book = keys
        accounts = {i: Account(OWNERS[i], TOKEN, 1000, 0) for i in range(4)}
        self.pending = Ledger.of(accounts, 0, 0)

    @property
    def key_book(self):
        return self._book

    @property
    def fee_account(self):
        return 0

    def recover(self):
        pass

    def post_if_due(self, force=False):
        return None

    def track_finality(self):
        pass

    def status_parts(self):
        return {"l2": {}, "l1": {}, "finality": {}}


@pytest.fixture
def seq(tmp_path):
    store = OperatorStore(tmp_path / "s.sqlite")
    s = Sequencer(Admission(store, book()), threading.RLock(), 0.1)
    s.recovered()
    yield s
    store.close()


def body(signed, nonce):
    tx = signed.tx
    out = {
        "type": "transfer" if isinstance(tx, Transfer) else "withdraw",
        "from": tx.sender,
        "amount": str(tx.amount),
        "fee": str(tx.fee),
        "nonce": nonce,
        "signature": "0x" + signed.signature.hex(),
    }
    if isinstance(tx, Transfer):
        out["to"] = tx.recipient
    return out


def transfer(sender, to, amount, nonce, secret=None, dst=DST, fee=0):
    s = sign_transfer(secret or SECRETS[sender], dst, sender, to, amount, fee, nonce)
    return body(s, nonce)


def codes(results):
    return [r.code if isinstance(r, Rejected) else r["seq"] for r in results]


def test_a_group_of_good_signatures_is_admitted(seq):
    items = [seq.prepare(transfer(0, 1, 5, 0)), seq.prepare(transfer(0, 2, 5, 1))]
    items.append(seq.prepare(body(sign_withdraw(SECRETS[1], DST, 1, 7, 1, 0), 0)))
    assert codes(seq.admit_many(items)) == [1, 2, 3]
    assert seq.backend.pending.account(0).nonce == 2


@pytest.mark.parametrize("where", [0, 3, 7])
def test_one_bad_signature_among_good_ones_is_named(seq, where):
    """A wrong key (owner 1's key signing for account 0) anywhere in a group of 8: exactly that
    item is refused bad_signature; the rest are admitted in order."""
    bodies = [transfer(1, 2, 1, n) for n in range(7)]
    bodies.insert(where, transfer(0, 2, 1, 0, secret=SECRETS[1]))
    out = codes(seq.admit_many([seq.prepare(b) for b in bodies]))
    assert out[where] == "bad_signature"
    assert [c for i, c in enumerate(out) if i != where] == list(range(1, 8))


@pytest.mark.parametrize(
    "bad",
    [
        lambda: transfer(0, 1, 5, 0, dst=OTHER_DST),  # another chain
        lambda: transfer(0, 1, 5, 1) | {"nonce": 0},  # signed for another nonce
        lambda: transfer(0, 1, 5, 0) | {"amount": "6"},  # body changed after signing
        lambda: transfer(0, 1, 5, 0) | {"to": 2},  # recipient changed
        lambda: transfer(1, 0, 5, 0) | {"from": 0},  # another sender's signature
    ],
)
def test_replayed_or_altered_signatures_are_refused(seq, bad):
    assert codes(seq.admit_many([seq.prepare(bad())])) == ["bad_signature"]
    assert seq.store.count_txs() == 0


def test_an_undecodable_signature_is_refused(seq):
    b = transfer(0, 1, 5, 0)
    b["signature"] = "0x" + "ff" * 48
    assert codes(seq.admit_many([seq.prepare(b)])) == ["bad_signature"]


def test_a_signature_of_the_wrong_length_is_a_bad_request(seq):
    b = transfer(0, 1, 5, 0)
    b["signature"] = "0x" + "00" * 64
    with pytest.raises(Exception, match="48 bytes"):
        seq.prepare(b)


def test_an_owner_without_a_key_is_refused(seq):
    with pytest.raises(Rejected) as e:
        seq.prepare(transfer(3, 1, 5, 0))
    assert e.value.code == "no_key"


def test_a_pending_rotation_refuses_the_owner_until_it_takes_effect(tmp_path):
    new = generate_secret_key()
    rotated = fold(book(), [entry(OWNERS[0], 1, HEAD + 3, new)], HEAD)
    adm = Admission(OperatorStore(tmp_path / "s.sqlite"), rotated)
    with pytest.raises(Rejected) as e:
        adm.prepare(transfer(0, 1, 5, 0))
    assert e.value.code == "key_rotation_pending"
    # other owners are unaffected
    assert adm.prepare(transfer(1, 0, 5, 0)).key == SECRETS[1].public_key()
    # from its activation block on, only the new key is accepted
    adm._book = KeyBook(rotated.history, HEAD + 3)
    assert adm.prepare(transfer(0, 1, 5, 0, secret=new)).key == new.public_key()
    item = adm.prepare(transfer(0, 1, 5, 0))  # old key: prepared, then refused by the check
    assert adm.verify_group([item]) != [None]
    assert rotated.valid_at(OWNERS[0], SECRETS[0].public_key(), HEAD + 2)
    assert not rotated.valid_at(OWNERS[0], SECRETS[0].public_key(), HEAD + 3)
    adm.store.close()


def test_an_unknown_sender_is_refused_before_any_key_lookup(seq):
    with pytest.raises(Rejected) as e:
        seq.prepare(transfer(0, 1, 5, 0) | {"from": 9})
    assert e.value.code == "unknown_account"


def test_resend_is_idempotent_and_replay_is_refused(seq):
    first = seq.admit_many([seq.prepare(transfer(0, 1, 5, 0))])[0]
    again = seq.admit_many([seq.prepare(transfer(0, 1, 5, 0))])[0]
    assert again["tx_hash"] == first["tx_hash"] and again["seq"] == first["seq"]
    assert seq.store.count_txs() == 1
    # the same signed tx replayed after its nonce moved on is a new id -> bad_nonce
    assert codes(seq.admit_many([seq.prepare(transfer(0, 1, 5, 0))])) == [first["seq"]]
    assert codes(seq.admit_many([seq.prepare(transfer(0, 1, 5, 2))])) == ["bad_nonce"]


def test_the_stored_payload_holds_what_the_builder_needs(seq):
    seq.admit_many([seq.prepare(transfer(0, 1, 5, 0, fee=2))])
    stored = seq.store.txs(limit=1)[0]
    p = decode_payload(stored.payload)
    assert p.tx == Transfer(0, 1, 5, 2) and p.nonce == 0 and len(p.signature) == 48
    assert stored.tx_hash == tx_id(p.tx, 0)


def test_payload_round_trip_and_strictness():
    sig = bytes(range(48))
    for tx in (Transfer(1, 2, 3000, 4), Withdraw(7, 10**20, 0)):
        raw = encode_payload(tx, 2**32 - 1, sig)
        assert decode_payload(raw).tx == tx and decode_payload(raw).nonce == 2**32 - 1
        with pytest.raises(PayloadError):
            decode_payload(raw[:-1])
        with pytest.raises(PayloadError):
            decode_payload(b"\x07" + raw[1:])  # unknown kind byte
    with pytest.raises(ValueError):
        encode_payload(Transfer(1, 2, 3, 0), 0, sig[:47])
    with pytest.raises(ValueError):
        encode_payload(Transfer(1, 2, 3, 0), 2**32, sig)


def test_tx_ids_differ_by_nonce_and_sender():
    t = Transfer(1, 2, 3, 0)
    assert tx_id(t, 0) != tx_id(t, 1) != tx_id(Transfer(2, 2, 3, 0), 1)


def test_key_book_starts_empty():
    assert KeyBook(KeyHistory(), 5).history.entries == {}
