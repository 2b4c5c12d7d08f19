"""Value types of the L2: accounts, transactions, deposits, commitments (all frozen)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .hashing import keccak
from .params import MAX_ACCOUNTS, MAX_BALANCE, MAX_NONCE, MAX_TXS_PER_COMMITMENT

ZERO_ADDRESS = "0x" + "00" * 20


def _addr_bytes(addr: str) -> bytes:
    raw = bytes.fromhex(addr[2:] if addr.startswith(("0x", "0X")) else addr)
    if len(raw) != 20:
        raise ValueError(
            f"address {addr!r} is not 20 bytes: pass a 0x-prefixed 40-hex-digit address"
        )
    return raw


def norm_address(addr: str) -> str:
    """Lower-case 0x form of a 20-byte address (rejects anything else)."""
    return "0x" + _addr_bytes(addr).hex()


@dataclass(frozen=True)
class Account:
    """One leaf of the account tree. The empty leaf (never created) is `Account.EMPTY`."""

    EMPTY: ClassVar[Account]  # set below the class (a class variable, not a field)

    owner: str
    token: str
    balance: int
    nonce: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "owner", norm_address(self.owner))
        object.__setattr__(self, "token", norm_address(self.token))
        if not 0 <= self.balance <= MAX_BALANCE:
            raise ValueError(f"balance {self.balance} outside 0..2^128-1")
        if not 0 <= self.nonce <= MAX_NONCE:
            raise ValueError(f"nonce {self.nonce} outside 0..2^32-1")
        if self.owner == ZERO_ADDRESS and (
            self.token != ZERO_ADDRESS or self.balance or self.nonce
        ):
            raise ValueError("an account without owner must be all zero (the empty leaf)")

    @property
    def is_empty(self) -> bool:
        return self.owner == ZERO_ADDRESS

    def packed(self) -> bytes:
        """owner(20) | token(20) | balance(16) | nonce(4): the 60-byte leaf preimage."""
        return (
            _addr_bytes(self.owner)
            + _addr_bytes(self.token)
            + self.balance.to_bytes(16, "big")
            + self.nonce.to_bytes(4, "big")
        )

    def leaf_hash(self) -> bytes:
        """keccak256(packed) for a live account, 32 zero bytes for the empty leaf."""
        return b"\x00" * 32 if self.is_empty else keccak(self.packed())

    @classmethod
    def unpack(cls, raw: bytes) -> Account:
        if len(raw) != 60:
            raise ValueError(f"an account leaf is 60 bytes, got {len(raw)}")
        return cls(
            owner="0x" + raw[0:20].hex(),
            token="0x" + raw[20:40].hex(),
            balance=int.from_bytes(raw[40:56], "big"),
            nonce=int.from_bytes(raw[56:60], "big"),
        )


Account.EMPTY = Account(ZERO_ADDRESS, ZERO_ADDRESS, 0, 0)
EMPTY_ACCOUNT = Account.EMPTY


def _check_index(name: str, value: int) -> None:
    if not 0 <= value < MAX_ACCOUNTS:
        raise ValueError(f"{name} {value} outside 0..2^24-1")


@dataclass(frozen=True)
class DepositTx:
    """Consume the next queued deposit into account `account` (created if that leaf is empty)."""

    account: int

    def __post_init__(self) -> None:
        _check_index("account", self.account)


#: Largest value an amount v2 (mantissa 27 bits, exponent 5 bits) can decode to; values above
#: MAX_BALANCE decode but make their commitment MALFORMED.
MAX_DECODED_AMOUNT = ((1 << 27) - 1) * 10**31
#: Largest value a fee (mantissa 11 bits, exponent 5 bits) can decode to.
MAX_DECODED_FEE = ((1 << 11) - 1) * 10**31


def _check_value(name: str, value: int, top: int) -> None:
    if not 0 <= value <= top:
        raise ValueError(f"{name} {value} outside 0..{top} (what its packed form can hold)")


@dataclass(frozen=True)
class Transfer:
    """Move `amount` from `sender` to `recipient` (same token) paying `fee`. Unsigned: in format
    v2 the signature travels apart (SignedTransfer) and is aggregated per commitment."""

    sender: int
    recipient: int
    amount: int
    fee: int

    def __post_init__(self) -> None:
        _check_index("sender", self.sender)
        _check_index("recipient", self.recipient)
        _check_value("amount", self.amount, MAX_DECODED_AMOUNT)
        _check_value("fee", self.fee, MAX_DECODED_FEE)


@dataclass(frozen=True)
class Withdraw:
    """Burn `amount` of account `sender` on L2, paid to the account's owner on L1 once final."""

    sender: int
    amount: int
    fee: int

    def __post_init__(self) -> None:
        _check_index("sender", self.sender)
        _check_value("amount", self.amount, MAX_DECODED_AMOUNT)
        _check_value("fee", self.fee, MAX_DECODED_FEE)


def _check_signature_bytes(sig: bytes) -> None:
    if len(sig) not in (48, 96):
        raise ValueError(
            f"a BLS signature is a G1 point of 48 (compressed) or 96 (uncompressed) bytes, "
            f"got {len(sig)}"
        )


@dataclass(frozen=True)
class SignedTransfer:
    """A transfer with its sender's BLS signature (G1, as blst serialises it) over
    messages.transfer_message(tx, nonce): what a user sends the operator."""

    tx: Transfer
    signature: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "signature", bytes(self.signature))
        _check_signature_bytes(self.signature)


@dataclass(frozen=True)
class SignedWithdraw:
    """A withdraw with its sender's BLS signature over messages.withdraw_message(tx, nonce)."""

    tx: Withdraw
    signature: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "signature", bytes(self.signature))
        _check_signature_bytes(self.signature)


SignedTx = SignedTransfer | SignedWithdraw


@dataclass(frozen=True)
class ForcedSlot:
    """Consume the next forced tx of the commitment's range; `applied` states whether it was
    valid (applied without nonce change or fee) or invalid (skipped, no state change).
    `raw_outcome` keeps a posted outcome byte other than 0x00/0x01 (a MALFORMED commitment)."""

    applied: bool
    raw_outcome: int | None = None

    def __post_init__(self) -> None:
        if self.raw_outcome is not None:
            if not 2 <= self.raw_outcome <= 255:
                raise ValueError("raw_outcome is only for outcome bytes 0x02..0xff")
            if self.applied:
                raise ValueError("a slot with a malformed outcome byte is not applied")

    @property
    def outcome(self) -> int:
        """The outcome byte as posted."""
        return self.raw_outcome if self.raw_outcome is not None else int(self.applied)

    @property
    def malformed(self) -> bool:
        return self.raw_outcome is not None


Tx = DepositTx | Transfer | Withdraw | ForcedSlot


@dataclass(frozen=True)
class QueuedForced:
    """One entry of the rollup's forced queue: the L1 sender who queued it (the only
    authentication of a forced tx) and the entry `l2tx` = 0x02 | transfer(12) or
    0x03 | withdraw(9), as `forceTransaction` accepted it."""

    index: int
    sender: str
    data: bytes

    def __post_init__(self) -> None:
        if self.index < 0:
            raise ValueError(f"forced index {self.index} is negative")
        object.__setattr__(self, "sender", norm_address(self.sender))
        kind = self.data[:1]
        if not (
            (kind == b"\x02" and len(self.data) == 13) or (kind == b"\x03" and len(self.data) == 10)
        ):
            raise ValueError(
                "a forced tx is 0x02 | transfer (13 bytes) or 0x03 | withdraw (10 bytes)"
            )


@dataclass(frozen=True)
class QueuedDeposit:
    """One entry of the bridge's deposit queue as the rollup consumes it (0x01 recipients only)."""

    index: int
    token: str
    amount: int
    owner: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "token", norm_address(self.token))
        object.__setattr__(self, "owner", norm_address(self.owner))


@dataclass(frozen=True, eq=False)
class Commitment:
    """One commitment of format v2: the post-root, the queue positions after it, the fee account,
    its four sections (run in this order) and the aggregate BLS signature of its transfers and
    withdraws (48 bytes compressed G1, empty when it has none). A decoded commitment keeps the
    exact bytes posted in `posted_rest` (amount encodings need not be canonical, and the hash is
    over the posted bytes); a built one is encoded canonically."""

    post_root: bytes
    deposit_end: int
    forced_end: int
    fee_account: int
    deposits: tuple[DepositTx, ...] = ()
    transfers: tuple[Transfer, ...] = ()
    withdraws: tuple[Withdraw, ...] = ()
    forced: tuple[ForcedSlot, ...] = ()
    signature: bytes = b""
    posted_rest: bytes | None = None

    def __post_init__(self) -> None:
        for name in ("deposits", "transfers", "withdraws", "forced"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "signature", bytes(self.signature))
        if len(self.post_root) != 32:
            raise ValueError(f"post root must be 32 bytes, got {len(self.post_root)}")
        _check_index("fee account", self.fee_account)
        if self.tx_count > MAX_TXS_PER_COMMITMENT:
            raise ValueError(
                f"{self.tx_count} txs in one commitment; at most {MAX_TXS_PER_COMMITMENT}"
            )
        want = 48 if self.transfers or self.withdraws else 0
        if len(self.signature) != want:
            raise ValueError(
                f"signature must be {want} bytes for {len(self.transfers)} transfers and "
                f"{len(self.withdraws)} withdraws, got {len(self.signature)}"
            )
        if not len(self.deposits) <= self.deposit_end < 2**32:
            raise ValueError(
                f"deposit end {self.deposit_end} below its {len(self.deposits)} deposits"
            )
        if not len(self.forced) <= self.forced_end < 2**32:
            raise ValueError(f"forced end {self.forced_end} below its {len(self.forced)} slots")
        if self.posted_rest is not None:
            from .codec import parse_rest  # the codec imports these types

            object.__setattr__(self, "posted_rest", bytes(self.posted_rest))
            posted = parse_rest(self.posted_rest)
            if (
                posted.fee_account,
                posted.deposits,
                posted.transfers,
                posted.withdraws,
                posted.forced,
                posted.signature,
            ) != (
                self.fee_account,
                self.deposits,
                self.transfers,
                self.withdraws,
                self.forced,
                self.signature,
            ):
                raise ValueError(
                    "posted_rest does not hold this commitment's fields: build a new commitment "
                    "without posted_rest to change them"
                )

    def _key(self) -> tuple[bytes, int, int, bytes]:
        return (self.post_root, self.deposit_end, self.forced_end, self.rest())

    def __eq__(self, other: object) -> bool:
        """Equal when posted identically (the posted bytes, not just the decoded values)."""
        if not isinstance(other, Commitment):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def tx_count(self) -> int:
        return len(self.deposits) + len(self.transfers) + len(self.withdraws) + len(self.forced)

    @property
    def deposit_start(self) -> int:
        return self.deposit_end - len(self.deposits)

    @property
    def forced_start(self) -> int:
        return self.forced_end - len(self.forced)

    @property
    def signed(self) -> tuple[Transfer | Withdraw, ...]:
        """The txs the aggregate covers, in posted order: transfers, then withdraws."""
        return (*self.transfers, *self.withdraws)

    def rest(self) -> bytes:
        """Every posted byte after postRoot (what the commitment hash covers by its keccak)."""
        if self.posted_rest is not None:
            return self.posted_rest
        from .codec import encode_rest  # the codec imports these types

        return encode_rest(self)

    def hash(self) -> bytes:
        """keccak(postRoot | depositEnd(4) | forcedEnd(4) | keccak(rest))."""
        from .hashes import commitment_hash

        return commitment_hash(self.post_root, self.deposit_end, self.forced_end, self.rest())
