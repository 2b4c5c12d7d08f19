"""Helpers of the forced-inclusion tests (imported as `forced_helpers`)."""

from __future__ import annotations

from dataclasses import dataclass

from hexbytes import HexBytes

from offchain.bls import SecretKey
from offchain.rollup.codec import encode_forced_tx
from offchain.rollup.honest_proposer import HonestProposer
from offchain.rollup.l1 import RollupL1, Signer
from offchain.rollup.validator import Validator
from offchain.rollup.wallet import derive_key

BOND = 10**18
CHALLENGE = 100
FORCED_DELAY = 300
LIVENESS = 1000
ETH = "0x" + "00" * 20
CHEATER = 4
CHALLENGER = 9


def recipient(addr: str) -> bytes:
    return b"\x01" + bytes.fromhex(addr[2:])


@dataclass
class Env:
    """One deployed rollup with its bridge, driven through web3 (fast) and Ape (reverts)."""

    w3: object
    bridge: object
    rollup: object
    l1: RollupL1
    accounts: list
    dst: bytes  # the rollup's BLS signing tag

    def bls(self, i: int) -> SecretKey:
        """L1 account i's derived BLS key."""
        from eth_account import Account as EthAccount

        acct = EthAccount.from_key(self.key(i))
        return derive_key(acct, int(self.w3.eth.chain_id), self.l1.registry.address)

    def register(self, *indexes: int) -> None:
        """Register each account's derived BLS key and mine past the activation delay."""
        entries = [self.l1.register_key(self.signer(i), self.bls(i)) for i in indexes]
        if entries:
            self.l1.wait_key_active(max(entries, key=lambda e: e.from_block), mine=True)

    def key(self, i: int) -> bytes:
        return bytes(HexBytes(self.accounts[i].private_key))

    def signer(self, i: int) -> Signer:
        return Signer(self.w3, self.key(i))

    def addr(self, i: int) -> str:
        return self.accounts[i].address.lower()

    def deposit_eth(self, i: int, amount: int) -> None:
        fn = self.l1.bridge.functions.depositETH(recipient(self.addr(i)))
        self.signer(i).send(fn, value=amount, gas=200_000)

    def bond(self, i: int) -> None:
        self.signer(i).send(self.l1.rollup.functions.bond(), value=BOND, gas=100_000)

    def force(self, i: int, tx) -> None:
        """L1 account i queues `tx` (a Transfer or Withdraw, or a signed one: the signature
        is not part of a forced tx)."""
        fn = self.l1.rollup.functions.forceTransaction(encode_forced_tx(getattr(tx, "tx", tx)))
        self.signer(i).send(fn, gas=300_000)

    def operator(self, i: int = 0) -> HonestProposer:
        return HonestProposer(self.l1, self.signer(i))

    def validator(self) -> Validator:
        return Validator(self.l1, self.signer(CHALLENGER))

    def advance(self, seconds: int) -> None:
        self.w3.provider.make_request("evm_increaseTime", [seconds])
        self.w3.provider.make_request("evm_mine", [])

    def eth_claimable(self, i: int) -> int:
        return self.l1.bridge.functions.claimable(self.accounts[i].address, ETH).call()
