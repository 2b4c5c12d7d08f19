"""Fee and gas arithmetic of the L1 sender: pure functions of what the node reported.

Nothing here is a price constant: every fee is derived from the node's latest base fee, its
suggested priority fee (``eth_maxPriorityFeePerGas``), its blob base fee (``eth_blobBaseFee``) or,
on a chain without EIP-1559, its ``eth_gasPrice``. The policy only says how much head-room to
take (factors), how much to outbid a stuck version (bump) and where to stop (caps).
"""

from __future__ import annotations

from dataclasses import dataclass

from offchain.errors import L1Error, L2KitError


class FeeAboveCap(L1Error):
    """The fees the chain asks for now are above the policy's cap: wait, do not overpay."""


@dataclass(frozen=True)
class SendPolicy:
    """How hard to try and how much to pay. Defaults suit a local node and a public testnet."""

    #: Attempts (first send included) before giving up.
    max_attempts: int = 8
    #: Seconds to wait for a receipt before treating a send as stuck and replacing it.
    receipt_timeout: float = 30.0
    #: First back-off after an RPC error; doubles each time up to `max_backoff`.
    backoff: float = 0.5
    max_backoff: float = 15.0
    #: Priority fee (wei per gas); None: the node's ``eth_maxPriorityFeePerGas``.
    priority_fee: int | None = None
    #: Ceiling on the priority fee whatever the node suggests (wei per gas).
    max_priority_fee: int = 50_000_000_000
    #: ``maxFeePerGas`` = latest base fee * this factor + priority fee: survives that many-fold
    #: base fee rise before the transaction is priced out (the fee paid stays the real one).
    base_fee_factor: int = 2
    #: Cap on ``maxFeePerGas`` (or the legacy gas price): above it we wait, not overpay.
    max_fee_cap: int = 500_000_000_000
    #: ``maxFeePerBlobGas`` = blob base fee * this factor (type-3 transactions).
    blob_fee_factor: int = 2
    #: Cap on ``maxFeePerBlobGas`` (wei per blob gas).
    max_blob_fee_cap: int = 1_000_000_000_000
    #: Replacement bump in percent (nodes require at least 10 %).
    bump_percent: int = 15
    #: Replacement bump of blob transactions (geth's pool requires 100 % for them).
    blob_bump_percent: int = 100
    #: Extra gas over the node's estimate, in percent.
    gas_margin_percent: int = 20

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise L2KitError(f"max_attempts {self.max_attempts} must be at least 1")
        if self.base_fee_factor < 1 or self.blob_fee_factor < 1:
            raise L2KitError("fee factors must be at least 1: a lower one is priced out at once")
        if self.bump_percent < 10 or self.blob_bump_percent < 10:
            raise L2KitError("replacement bumps below 10 % are refused by every node")
        if self.gas_margin_percent < 0:
            raise L2KitError(f"gas margin {self.gas_margin_percent} % must not be negative")


@dataclass(frozen=True)
class NodeFees:
    """What the node reported: base fee (None on a legacy chain), tips, blob base fee."""

    base_fee: int | None
    suggested_priority: int
    gas_price: int = 0
    blob_base_fee: int | None = None


@dataclass(frozen=True)
class Fees:
    """The fee fields of one version of a transaction (legacy: max_fee = priority = gasPrice)."""

    max_fee: int
    priority_fee: int
    blob_fee: int = 0
    legacy: bool = False

    def fields(self) -> dict[str, int]:
        """The transaction fields these fees set."""
        if self.legacy:
            return {"gasPrice": self.max_fee}
        out = {"maxFeePerGas": self.max_fee, "maxPriorityFeePerGas": self.priority_fee}
        if self.blob_fee:
            out["maxFeePerBlobGas"] = self.blob_fee
        return out


def _bump(previous: int, percent: int) -> int:
    return previous * (100 + percent) // 100 + 1


def choose_fees(
    node: NodeFees, policy: SendPolicy, previous: Fees | None = None, blob: bool = False
) -> Fees:
    """The fees of the next version: from the node's figures, outbidding `previous` (the last
    version sent with the same nonce) by the policy's bump. FeeAboveCap if above a cap."""
    bump = policy.blob_bump_percent if blob else policy.bump_percent
    if node.base_fee is None:  # legacy chain: one gas price
        if blob:
            raise L2KitError("blob transactions need an EIP-1559 chain (no base fee reported)")
        price = node.gas_price
        if previous is not None:
            price = max(price, _bump(previous.max_fee, bump))
        if price > policy.max_fee_cap:
            raise FeeAboveCap(f"gas price {price} wei is above the cap {policy.max_fee_cap}")
        return Fees(price, price, legacy=True)
    priority = node.suggested_priority if policy.priority_fee is None else policy.priority_fee
    priority = min(max(priority, 0), policy.max_priority_fee)
    max_fee = node.base_fee * policy.base_fee_factor + priority
    blob_fee = 0
    if blob:
        blob_fee = max(1, (node.blob_base_fee or 0) * policy.blob_fee_factor)
    if previous is not None:  # a replacement must outbid the last version in every field
        priority = max(priority, _bump(previous.priority_fee, bump))
        max_fee = max(max_fee, _bump(previous.max_fee, bump))
        if blob:
            blob_fee = max(blob_fee, _bump(previous.blob_fee, bump))
    if max_fee > policy.max_fee_cap:
        raise FeeAboveCap(f"max fee {max_fee} wei per gas is above the cap {policy.max_fee_cap}")
    if blob_fee > policy.max_blob_fee_cap:
        raise FeeAboveCap(
            f"blob fee {blob_fee} wei per blob gas is above the cap {policy.max_blob_fee_cap}"
        )
    return Fees(max_fee, min(priority, max_fee), blob_fee)


def gas_limit(estimate: int, policy: SendPolicy) -> int:
    """The gas limit sent for a node estimate: the estimate plus the policy's margin."""
    return estimate * (100 + policy.gas_margin_percent) // 100
