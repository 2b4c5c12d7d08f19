"""Protocol constants shared with contracts/rollup (keep both equal; docs/rollup-spec.md)."""

from typing import Final

#: Depth of the account tree: 2**24 accounts, addressed by 3-byte indexes.
TREE_DEPTH: Final = 24
MAX_ACCOUNTS: Final = 1 << TREE_DEPTH
#: Bound on transactions per commitment (sized so a worst-case fraud proof stays under 3M gas).
MAX_TXS_PER_COMMITMENT: Final = 32
#: Bound on commitments per batch.
MAX_COMMITMENTS_PER_BATCH: Final = 64

#: Rollup data format (docs/rollup-spec.md): 2 = sections per commitment, one BLS aggregate.
FORMAT_VERSION: Final = 2

#: Kind bytes of forced-queue entries (`forceTransaction(l2tx)`: kind | body).
TX_TRANSFER: Final = 0x02
TX_WITHDRAW: Final = 0x03
#: Outcome byte of a forced slot (anything else is MALFORMED).
FORCED_APPLIED: Final = 0x01
FORCED_SKIPPED: Final = 0x00

INDEX_LEN: Final = 3
AMOUNT_LEN: Final = 4
FEE_LEN: Final = 2
DEPOSIT_LEN: Final = INDEX_LEN  # account(3)
TRANSFER_LEN: Final = 2 * INDEX_LEN + AMOUNT_LEN + FEE_LEN  # from(3) | to(3) | amount(4) | fee(2)
WITHDRAW_LEN: Final = INDEX_LEN + AMOUNT_LEN + FEE_LEN  # from(3) | amount(4) | fee(2)
FORCED_LEN: Final = 1  # outcome(1)
#: Forced-queue entries: kind(1) | transfer(12) or kind(1) | withdraw(9).
FORCED_TRANSFER_TX_LEN: Final = 1 + TRANSFER_LEN
FORCED_WITHDRAW_TX_LEN: Final = 1 + WITHDRAW_LEN
#: Compressed G1 aggregate signature, present iff the commitment has transfers or withdraws.
SIGNATURE_LEN: Final = 48
#: postRoot(32) | nDeposits(1) nTransfers(1) nWithdraws(1) nForced(1) | feeAccount(3).
HEADER_LEN: Final = 32 + 4 + INDEX_LEN
HEADER_WITH_SIGNATURE_LEN: Final = HEADER_LEN + SIGNATURE_LEN
#: Largest commitment: header, signature and 32 transfers (the longest item).
MAX_COMMITMENT_LEN: Final = HEADER_WITH_SIGNATURE_LEN + MAX_TXS_PER_COMMITMENT * TRANSFER_LEN

MAX_BALANCE: Final = (1 << 128) - 1
MAX_NONCE: Final = (1 << 32) - 1

#: Packed amounts (v2): 32 bits = mantissa(27) | exponent(5), value = mantissa * 10**exponent.
AMOUNT_MANTISSA_BITS: Final = 27
#: Packed fees: 16 bits = mantissa(11) | exponent(5).
FEE_MANTISSA_BITS: Final = 11
EXPONENT_BITS: Final = 5

RECIPIENT_TAG_ADDRESS: Final = b"\x01"
