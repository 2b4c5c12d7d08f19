"""`l2kit rollup key show|register`: the BLS key that signs your L2 transfers and withdrawals.

The key is derived from your L1 wallet (an EIP-712 signature over a fixed message naming the
chain and the key registry, docs/bls.md §7): there is no new secret to keep, and the same wallet
always gives the same key. It must be registered once in BLSKeyRegistry (the rollup's
`registry()`) and becomes valid `activationDelay` blocks later; until then the batcher refuses
your L2 transactions, and while a new key is pending it refuses them too (docs/bls.md §6.3).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import click
from eth_utils import to_checksum_address
from web3.contract import Contract

from offchain.bls import PublicKey, SecretKey, g2_words, signing_dst
from offchain.bls.registry import KEY_REGISTERED_TOPIC, KeyEntry, decode_key_registered
from offchain.chain import abi_of
from offchain.errors import L2KitError
from offchain.rollup.wallet import derive_key

from .session import Session, common_options


@dataclass(frozen=True)
class SigningSetup:
    """What signing an L2 tx needs: the derived secret, its public key and the signing tag."""

    secret: SecretKey
    public: PublicKey
    dst: bytes
    registry: str


def registry_of(s: Session) -> Contract:
    rollup = s.contract("Rollup")
    address = rollup.functions.registry().call()
    return s.w3.eth.contract(address=address, abi=abi_of("BLSKeyRegistry"))


def signing_setup(s: Session, key_index: int = 0) -> SigningSetup:
    """Derive the session wallet's BLS key for this deployment (one local EIP-712 signature)."""
    chain_id = int(s.w3.eth.chain_id)
    registry = registry_of(s).address
    secret = derive_key(s.account, chain_id, registry, key_index)
    rollup = s.deployment.address("Rollup")
    return SigningSetup(secret, secret.public_key(), signing_dst(chain_id, rollup), registry)


def key_entries(s: Session, registry: str, owner: str) -> list[KeyEntry]:
    """Every KeyRegistered event of `owner`, oldest first."""
    logs = s.w3.eth.get_logs(
        {
            "address": to_checksum_address(registry),
            "fromBlock": int(s.deployment.block),
            "toBlock": "latest",
            "topics": [
                "0x" + KEY_REGISTERED_TOPIC.hex(),
                "0x" + bytes(12).hex() + owner.lower().removeprefix("0x"),
            ],
        }
    )
    return [decode_key_registered(list(lg["topics"]), bytes(lg["data"])) for lg in logs]


def key_state(entries: list[KeyEntry], public: PublicKey, head: int) -> str:
    """'active', 'pending', 'other' (another key is the newest) or 'none' (pure)."""
    if not entries:
        return "none"
    newest = entries[-1]
    if newest.key != public:
        return "other"
    return "pending" if newest.from_block > head else "active"


def require_active_key(s: Session, setup: SigningSetup) -> None:
    """Refuse before signing when the batcher would refuse: no key, pending, or another key."""
    entries = key_entries(s, setup.registry, s.address)
    head = int(s.w3.eth.block_number)
    state = key_state(entries, setup.public, head)
    if state == "active":
        return
    if state == "none":
        raise L2KitError(
            f"{s.address} has no BLS signing key registered: run `l2kit rollup key register` "
            "once (your key is derived from this wallet; nothing new to keep)"
        )
    if state == "pending":
        raise L2KitError(
            f"your BLS key becomes valid at L1 block {entries[-1].from_block} (now {head}): "
            "wait for it (`l2kit rollup key show`)"
        )
    raise L2KitError(
        f"the BLS key registered for {s.address} is not the one this wallet derives: register "
        "it again with `l2kit rollup key register`"
    )


@click.group()
def key() -> None:
    """Your BLS signing key (derived from your L1 wallet): show it, register it."""


@key.command()
@common_options
def show(s: Session) -> None:
    """Show your derived BLS public key and its registration state."""
    setup = signing_setup(s)
    entries = key_entries(s, setup.registry, s.address)
    head = int(s.w3.eth.block_number)
    state = key_state(entries, setup.public, head)
    valid_from = entries[-1].from_block if entries else None
    s.out.result(
        {
            "owner": s.address,
            "public_key": "0x" + setup.public.compressed.hex(),
            "registry": setup.registry,
            "state": state,
            "valid_from_block": valid_from,
            "head_block": head,
        },
        f"BLS key 0x{setup.public.compressed.hex()[:16]}... of {s.address}: {state}"
        + (f" (valid from block {valid_from}, now {head})" if valid_from is not None else ""),
    )


@key.command()
@click.option("--wait", is_flag=True, help="Wait until the key is in effect.")
@click.option("--timeout", type=float, default=300.0, show_default=True, help="For --wait (s).")
@common_options
def register(s: Session, wait: bool, timeout: float) -> None:
    """Register your derived BLS key in the rollup's key registry (once per wallet)."""
    setup = signing_setup(s)
    entries = key_entries(s, setup.registry, s.address)
    if entries and entries[-1].key == setup.public:
        head = int(s.w3.eth.block_number)
        s.out.result(
            {
                "public_key": "0x" + setup.public.compressed.hex(),
                "state": "already registered",
                "valid_from_block": entries[-1].from_block,
            },
            f"already registered (valid from block {entries[-1].from_block}, now {head})",
        )
        return
    s.confirm(f"register BLS key 0x{setup.public.compressed.hex()[:16]}... for {s.address}")
    registry = registry_of(s)
    receipt = s.send(registry.functions.register(g2_words(setup.public.eip2537())), 0, "register")
    entry = next(
        decode_key_registered([bytes(t) for t in lg["topics"]], bytes(lg["data"]))
        for lg in receipt["logs"]
        if lg["topics"] and bytes(lg["topics"][0]) == KEY_REGISTERED_TOPIC
    )
    if wait:
        deadline = time.monotonic() + timeout
        while int(s.w3.eth.block_number) < entry.from_block:
            if time.monotonic() > deadline:
                raise L2KitError(
                    f"the key is valid from block {entry.from_block}; the node is still at "
                    f"{s.w3.eth.block_number} after {timeout:.0f} s"
                )
            time.sleep(1.0)
    s.out.result(
        {
            "public_key": "0x" + setup.public.compressed.hex(),
            "valid_from_block": entry.from_block,
            "l1_tx": receipt["transactionHash"].to_0x_hex(),
        },
        f"BLS key registered; valid from L1 block {entry.from_block}"
        + ("" if wait else " (the batcher refuses your L2 transactions until then)"),
    )
