"""Protocol constants shared with contracts/rollup (keep both equal; docs/rollup-spec.md)."""

from typing import Final

#: Depth of the account tree: 2**24 accounts, addressed by 3-byte indexes.
TREE_DEPTH: Final = 24
MAX_ACCOUNTS: Final = 1 << TREE_DEPTH
#: Bound on transactions per commitment (sized so a worst-case fraud proof stays under 3M gas).
MAX_TXS_PER_COMMITMENT: Final = 32
#: Bound on commitments per batch.
MAX_COMMITMENTS_PER_BATCH: Final = 64

TX_DEPOSIT: Final = 0x01
TX_TRANSFER: Final = 0x02
TX_WITHDRAW: Final = 0x03
#: Slot consuming the next forced tx: type | outcome(1) (0x01 applied, 0x00 skipped).
TX_FORCED: Final = 0x04
FORCED_APPLIED: Final = 0x01
FORCED_SKIPPED: Final = 0x00

DEPOSIT_TX_LEN: Final = 4  # type | account(3)
TRANSFER_TX_LEN: Final = 78  # type | from(3) | to(3) | amount(5) | fee(2) | sig(64)
WITHDRAW_TX_LEN: Final = 75  # type | from(3) | amount(5) | fee(2) | sig(64)
FORCED_TX_LEN: Final = 2  # type | outcome(1)
#: Largest tx-data size of one commitment (a full commitment of transfers).
MAX_TX_BYTES: Final = MAX_TXS_PER_COMMITMENT * TRANSFER_TX_LEN
#: Commitment header: postRoot(32) | depositEnd(4) | forcedEnd(4) | feeAccount(3) | txLen(2).
HEADER_LEN: Final = 45

MAX_BALANCE: Final = (1 << 128) - 1
MAX_NONCE: Final = (1 << 32) - 1

#: Packed amounts: 40 bits = mantissa(35) | exponent(5), value = mantissa * 10**exponent.
AMOUNT_MANTISSA_BITS: Final = 35
#: Packed fees: 16 bits = mantissa(11) | exponent(5).
FEE_MANTISSA_BITS: Final = 11
EXPONENT_BITS: Final = 5

RECIPIENT_TAG_ADDRESS: Final = b"\x01"

EIP712_NAME: Final = "l2kit-rollup"
EIP712_VERSION: Final = "1"
