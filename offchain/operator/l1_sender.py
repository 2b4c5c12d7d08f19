"""Moved to `offchain.l1.sender` (issue #10); this re-export goes when no branch imports it."""

from offchain.l1.sender import *  # noqa: F403
from offchain.l1.sender import (  # noqa: F401
    EstimateRefused,
    FeeAboveCap,
    L1Sender,
    NonceConsumed,
    Reverted,
    SendError,
    SendJournal,
    SendPolicy,
    SendRecord,
    Sent,
    Sidecar,
    WouldRevert,
    call_tx,
    max_fee_now,
    node_fees,
    send_transaction,
)
