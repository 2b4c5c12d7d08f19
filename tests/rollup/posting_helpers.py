"""Raw L1 transactions for the posting tests: any calldata, any sender, EIP-7702 delegation."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from web3.exceptions import ContractLogicError

from offchain.rollup.posting import encode_posting

GAS = 3_000_000


def selector_of(error_signature: str) -> bytes:
    from eth_utils import keccak

    return keccak(text=error_signature)[:4]


def call_raw(w3, sender: str, to: str, data: bytes) -> tuple[bool, bytes]:
    """eth_call `data` to `to` from `sender`: (succeeded, return data or revert data)."""
    try:
        return True, bytes(w3.eth.call({"from": sender, "to": to, "data": data, "gas": GAS}))
    except ContractLogicError as e:
        raw = e.data if isinstance(e.data, str) else ""
        return False, bytes.fromhex(raw[2:]) if raw.startswith("0x") else b""


def send_raw(
    w3, key: bytes, to: str, data: bytes, value: int = 0, authorizations: list | None = None
) -> Any:
    """Sign and send a tx with exactly this input; returns the receipt (status 0 or 1)."""
    acct = Account.from_key(key)
    tx: dict[str, Any] = {
        "chainId": w3.eth.chain_id,
        "nonce": w3.eth.get_transaction_count(acct.address, "pending"),
        "to": to,
        "data": data,
        "value": value,
        "gas": GAS,
        "maxFeePerGas": 2 * w3.eth.gas_price + 10**9,
        "maxPriorityFeePerGas": 10**9,
    }
    if authorizations is not None:
        tx["authorizationList"] = authorizations
    signed = acct.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)


def delegate(w3, key: bytes, target: str) -> None:
    """Make the EOA of `key` an EIP-7702-delegated account (code 0xef0100 || target) with a real
    type-4 transaction (sent to a fresh address, so no code runs)."""
    acct = Account.from_key(key)
    nonce = w3.eth.get_transaction_count(acct.address, "pending")
    auth = acct.sign_authorization(
        {"chainId": w3.eth.chain_id, "address": target, "nonce": nonce + 1}
    )
    receipt = send_raw(w3, key, Account.create().address, b"", authorizations=[auth])
    assert receipt["status"] == 1
    code = bytes(w3.eth.get_code(acct.address))
    assert code == bytes.fromhex("ef0100") + bytes.fromhex(target[2:]), code.hex()


def fresh_account(w3, eth: int = 100 * 10**18) -> bytes:
    """A new funded EOA (not one of the shared test accounts, so delegating it leaks nowhere)."""
    acct = Account.create()
    w3.provider.make_request("anvil_setBalance", [acct.address, hex(eth)])
    return bytes(acct.key)


def mutations(pre_root: bytes, data: bytes) -> dict[str, bytes]:
    """Calldata variants of postBatch(pre_root, data) that the ABI decoder accepts (or that a
    lenient reader might) but that are not the canonical call."""
    good = encode_posting(pre_root, data)
    pad = -len(data) % 32
    out = {
        "trailing_byte": good + b"\x00",
        "trailing_word": good + b"\x00" * 32,
        "short_padding": good[: len(good) - pad] if pad else good[:-1],
        # data relocated behind a junk word, the offset word pointing at it (valid ABI)
        "relocated_offset": good[:36] + (0x60).to_bytes(32, "big") + b"\xee" * 32 + good[68:],
    }
    if pad:
        out["dirty_padding"] = good[:-1] + b"\x01"
    return out
