"""A minimal transaction sender for the side-by-side benchmark: local keys, one Anvil node."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract


@dataclass
class Node:
    """One Anvil node and what every actor shares: the web3 handle and the chain id."""

    w3: Web3

    @property
    def chain_id(self) -> int:
        return self.w3.eth.chain_id

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def warp(self, seconds: int) -> None:
        self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    def fresh_account(self, label: str) -> LocalAccount:
        """A new account (deterministic from `label`) holding 100 ETH and nothing else."""
        acct = Account.from_key(keccak(text=f"l2kit-bench-{label}"))
        self.w3.provider.make_request("anvil_setBalance", [acct.address, hex(100 * 10**18)])  # type: ignore[arg-type]
        return acct

    def send(self, acct: LocalAccount, fn: Any, value: int = 0) -> dict:
        """Sign and send a contract call from `acct`; returns the receipt, raises if it reverted."""
        tx = fn.build_transaction(
            {
                "from": acct.address,
                "value": value,
                "nonce": self.w3.eth.get_transaction_count(acct.address, "pending"),
                "chainId": self.chain_id,
            }
        )
        tx["gas"] = int(tx["gas"] * 1.3) + 50_000
        signed = acct.sign_transaction(tx)
        rcpt = self.w3.eth.wait_for_transaction_receipt(
            self.w3.eth.send_raw_transaction(signed.raw_transaction)
        )
        if rcpt["status"] != 1:
            raise RuntimeError(f"{fn.fn_name} reverted (gas used {rcpt['gasUsed']})")
        return dict(rcpt)

    def deploy(self, acct: LocalAccount, abi: list, bytecode: str, *args: Any) -> Contract:
        factory = self.w3.eth.contract(abi=abi, bytecode=bytecode)
        rcpt = self.send(acct, factory.constructor(*args))
        return self.w3.eth.contract(address=rcpt["contractAddress"], abi=abi)

    def at(self, address: str, abi: list) -> Contract:
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)
