"""A small L2 world for the Solidity dispute tests (format v2): bytes, hashes and messages come
from offchain.rollup (codec, hashes, messages); this file only applies *valid* transactions to a
tree (tests craft invalid data by hand) and records the state dispute's witnesses."""

from __future__ import annotations

from dataclasses import dataclass, field

from offchain.bls import SecretKey, aggregate, g2_words, hint_words, sign
from offchain.rollup import messages
from offchain.rollup.codec import decode_amount as _decode_amount
from offchain.rollup.codec import (  # noqa: F401 (tests import them)
    decode_transfer,
    decode_withdraw,
    encode_amount,
    encode_fee,
    encode_rest,
    encode_transfer,
    encode_withdraw,
    parse_rest,
)
from offchain.rollup.hashes import batch_hash, commitment_hash  # noqa: F401
from offchain.rollup.merkle import SparseMerkleTree
from offchain.rollup.types import Account, Commitment, DepositTx, ForcedSlot, Transfer, Withdraw

ETH = "0x" + "00" * 20
EMPTY = Account.EMPTY


def idx(i: int) -> bytes:
    """A 3-byte account index (the codec's layout)."""
    return i.to_bytes(3, "big")


def transfer_bytes(frm: int, to: int, amount: int, fee: int) -> bytes:
    return encode_transfer(Transfer(frm, to, amount, fee))


def withdraw_bytes(frm: int, amount: int, fee: int) -> bytes:
    return encode_withdraw(Withdraw(frm, amount, fee))


def transfer_message(frm: int, nonce: int, to: int, amount: int, fee: int) -> bytes:
    return messages.transfer_message(Transfer(frm, to, amount, fee), nonce)


def withdraw_message(frm: int, nonce: int, amount: int, fee: int) -> bytes:
    return messages.withdraw_message(Withdraw(frm, amount, fee), nonce)


def rest_bytes(
    fee_account: int,
    deposits: list[int],
    transfers: list[bytes],
    withdraws: list[bytes],
    outcomes: list[int],
    signature: bytes = b"",
) -> bytes:
    """A commitment's rest: the codec's layout when the sections are valid (encode_rest), else
    the sections joined as given (tests craft invalid counts or outcome bytes by hand)."""
    if len(deposits) + len(transfers) + len(withdraws) + len(outcomes) <= 32 and all(
        o in (0, 1) for o in outcomes
    ):
        c = Commitment(
            bytes(32),
            len(deposits),
            len(outcomes),
            fee_account,
            deposits=[DepositTx(d) for d in deposits],
            transfers=[decode_transfer(t) for t in transfers],
            withdraws=[decode_withdraw(w) for w in withdraws],
            forced=[ForcedSlot(o == 1) for o in outcomes],
            signature=signature,
        )
        return encode_rest(c)
    counts = bytes([len(deposits), len(transfers), len(withdraws), len(outcomes)])
    return (
        counts
        + idx(fee_account)
        + signature
        + b"".join(idx(d) for d in deposits)
        + b"".join(transfers)
        + b"".join(withdraws)
        + bytes(outcomes)
    )


@dataclass
class Built:
    """One commitment: what is posted and what its disputes need."""

    post_root: bytes
    deposit_end: int
    forced_end: int
    rest: bytes
    witnesses: bytes
    deposits: list[tuple[str, int, str]]
    forced: list[tuple[str, bytes]]

    @property
    def data(self) -> bytes:
        return self.post_root + self.rest

    @property
    def hash(self) -> bytes:
        return commitment_hash(self.post_root, self.deposit_end, self.forced_end, self.rest)


@dataclass
class World:
    """The L2 state (accounts and tree), queue positions, and BLS keys of the test owners."""

    dst: bytes
    accounts: dict[int, Account] = field(default_factory=dict)
    tree: SparseMerkleTree = field(default_factory=SparseMerkleTree)
    deposit_end: int = 0
    forced_end: int = 0
    secrets: dict[str, SecretKey] = field(default_factory=dict)
    _signing: tuple[bytes, int] = (b"", 0)

    def acc(self, i: int) -> Account:
        return self.accounts.get(i, EMPTY)

    def root(self) -> bytes:
        return self.tree.root

    def witness(self, i: int) -> bytes:
        return self.acc(i).packed() + b"".join(self.tree.proof(i))

    def _set(self, i: int, a: Account) -> None:
        self.accounts[i] = a
        self.tree.set_leaf(i, a.leaf_hash())

    def signer_evidence(self, i: int, block_key: bool = True) -> tuple:
        """(account, siblings, key) against the current root; key zero when none is wanted."""
        a = self.acc(i)
        key = (0,) * 8
        if block_key and not a.is_empty and a.owner in self.secrets:
            key = g2_words(self.secrets[a.owner].public_key().eip2537())
        return (a.packed(), list(self.tree.proof(i)), key)

    def commit(
        self,
        fee_account: int = 0,
        deposits: list[tuple[int, str, int]] = (),  # (index, owner, amount): ETH
        transfers: list[tuple[int, int, int, int]] = (),  # (from, to, amount, fee)
        withdraws: list[tuple[int, int, int]] = (),  # (from, amount, fee)
        forced: list[tuple[str, bytes]] = (),  # (l1 sender, l2tx) entries of the queue
        sign_with: dict[int, SecretKey] | None = None,
        signature: bytes | None = None,
        dst: bytes | None = None,
        nonce_delta: int = 0,
    ) -> Built:
        """Apply valid txs, sign them (owners' keys unless `sign_with` overrides an index, or
        `signature` replaces the aggregate; `dst` and `nonce_delta` sign under another tag or
        nonce), return the commitment and its evidence."""
        self._signing = (dst or self.dst, nonce_delta)
        w = b""
        dep_evidence = []
        for i, owner, amount in deposits:
            w += self.witness(i)
            a = self.acc(i)
            if a.is_empty:
                a = Account(owner, ETH, amount, 0)
            else:
                a = Account(a.owner, a.token, a.balance + amount, a.nonce)
            self._set(i, a)
            dep_evidence.append((ETH, amount, owner))
        fees = 0
        sigs = []
        for frm, to, amount, fee in transfers:
            w += self.witness(frm)
            a = self.acc(frm)
            sigs.append(
                self._sign(
                    frm, transfer_message(frm, a.nonce + nonce_delta, to, amount, fee), sign_with
                )
            )
            self._set(frm, Account(a.owner, a.token, a.balance - amount - fee, a.nonce + 1))
            w += self.witness(to)
            b = self.acc(to)
            self._set(to, Account(b.owner, b.token, b.balance + amount, b.nonce))
            fees += fee
        for frm, amount, fee in withdraws:
            w += self.witness(frm)
            a = self.acc(frm)
            sigs.append(
                self._sign(
                    frm, withdraw_message(frm, a.nonce + nonce_delta, amount, fee), sign_with
                )
            )
            self._set(frm, Account(a.owner, a.token, a.balance - amount - fee, a.nonce + 1))
            fees += fee
        outcomes = []
        for sender, l2tx in forced:
            w_f, applied = self._forced(sender, l2tx)
            w += w_f
            outcomes.append(1 if applied else 0)
        if fees:
            w += self.witness(fee_account)
            f = self.acc(fee_account)
            self._set(fee_account, Account(f.owner, f.token, f.balance + fees, f.nonce))
        if signature is None and sigs:
            signature = aggregate(sigs).compressed
        rest = rest_bytes(
            fee_account,
            [d[0] for d in deposits],
            [transfer_bytes(*t) for t in transfers],
            [withdraw_bytes(*t) for t in withdraws],
            outcomes,
            signature or b"",
        )
        self.deposit_end += len(deposits)
        self.forced_end += len(forced)
        return Built(
            self.root(), self.deposit_end, self.forced_end, rest, w, dep_evidence, list(forced)
        )

    def _sign(self, frm: int, message: bytes, sign_with: dict[int, SecretKey] | None):
        secret = (sign_with or {}).get(frm) or self.secrets[self.acc(frm).owner]
        return sign(secret, message, self._signing[0])

    def _forced(self, sender: str, l2tx: bytes) -> tuple[bytes, bool]:
        """A forced entry: applied iff the account is the sender's and can pay (no nonce or fee)."""
        frm = int.from_bytes(l2tx[1:4], "big")
        if l2tx[0] == 3:
            amount = _amount(l2tx[4:8])
            if amount == 0:
                return b"", False
            w = self.witness(frm)
            a = self.acc(frm)
            if a.is_empty or a.owner != sender.lower() or amount > a.balance:
                return w, False
            self._set(frm, Account(a.owner, a.token, a.balance - amount, a.nonce))
            return w, True
        to = int.from_bytes(l2tx[4:7], "big")
        amount = _amount(l2tx[7:11])
        w = self.witness(frm)
        a = self.acc(frm)
        if a.is_empty or a.owner != sender.lower() or amount > a.balance:
            return w, False
        before = (dict(self.accounts), self.acc(frm))
        self._set(frm, Account(a.owner, a.token, a.balance - amount, a.nonce))
        w += self.witness(to)
        b = self.acc(to)
        if b.is_empty or b.token != a.token:
            self._set(frm, before[1])
            self.accounts = before[0]
            return w, False
        self._set(to, Account(b.owner, b.token, b.balance + amount, b.nonce))
        return w, True


def _amount(raw: bytes) -> int:
    return _decode_amount(raw)


# ------------------------------------------------------------------ on-chain set-up (Ape objects)

BOND = 10**18
ACTIVATION_DELAY = 3


@dataclass
class Chain:
    """A deployed v2 rollup (Ape contracts), its L2 world and the proposer."""

    project: object
    chain: object
    registry: object
    bridge: object
    rollup: object
    proposer: object
    world: World

    def deposit(self, payer, owner: str, amount: int) -> None:
        self.bridge.depositETH(b"\x01" + bytes.fromhex(owner[2:]), value=amount, sender=payer)

    def register(self, owner_account, secret: SecretKey) -> None:
        self.registry.register(g2_words(secret.public_key().eip2537()), sender=owner_account)
        self.world.secrets[owner_account.address.lower()] = secret

    def mine(self, blocks: int) -> None:
        self.chain.mine(blocks)

    def post(self, built: list[Built], pre_root: bytes | None = None):
        """Post the commitments as one batch; returns (batch index, receipt)."""
        pre = self.rollup.head()[0] if pre_root is None else pre_root
        index = self.rollup.batchCount()
        data = b"".join(b.data for b in built)
        # an explicit limit: Ape sends with the bare estimate (no margin, unlike offchain.l1's
        # sender), and one run on a fresh clone ran out of gas posting right after a rollback
        receipt = self.rollup.postBatch(pre, data, sender=self.proposer, gas=8_000_000)
        return index, receipt

    def sig_proof(
        self,
        batch: int,
        built: list[Built],
        ci: int,
        signers: list[tuple],
        hint: tuple[int, int] | None = None,
    ) -> tuple:
        """The SignatureProof tuple; `hint` overrides the signature's square-root hint."""
        c = built[ci]
        if hint is None:
            signature = parse_rest(c.rest).signature
            hint = hint_words(signature) if signature else (0, 0)
        return (
            batch,
            [b.hash for b in built],
            ci,
            c.post_root,
            c.deposit_end,
            c.forced_end,
            c.rest,
            signers,
            list(hint),
        )


def deploy(project, chain, accounts, challenge: int = 3600) -> Chain:
    deployer = accounts[0]
    registry = deployer.deploy(project.BLSKeyRegistry, ACTIVATION_DELAY)
    bridge = deployer.deploy(project.L1Bridge, b"\x01")
    rollup = deployer.deploy(project.Rollup, bridge, BOND, challenge, 86_400, 30 * 86_400, registry)
    bridge.setRollup(rollup, sender=deployer)
    proposer = accounts[8]
    rollup.bond(value=12 * BOND, sender=proposer)
    dst = bytes(project.SignatureDispute.at(rollup.signatureDispute()).signingDst())
    return Chain(project, chain, registry, bridge, rollup, proposer, World(dst))
