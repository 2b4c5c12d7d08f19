"""web3.py client of ChannelAdjudicator with local signing (fast: no node-side accounts).

Sending goes through the one L1 sender (`offchain.l1.sender.L1Sender`, one per account): its lock
serializes every transaction of the account, the nonce is read from the chain's pending count for
each logical transaction (so a failed or refused send never leaves a gap), fees and gas come from
the node, and RPC errors are retried with bounded back-off. A call that would revert is refused
before signing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError, Web3Exception
from web3.logs import DISCARD

from offchain.chain import abi_of
from offchain.channels import crypto
from offchain.channels.model import ChannelError, Lock, State
from offchain.errors import TxFailed
from offchain.l1.sender import L1Sender, SendError, SendPolicy

# Channel transactions are time-critical (a secret must reach the chain before a lock expires):
# few, quick retries. A would-revert call is caught by `call` first; gas and fees come from the
# node (`eth_estimateGas` plus the policy's margin, the base fee) in the L1 sender.
CHANNEL_SEND_POLICY = SendPolicy(max_attempts=5, receipt_timeout=15.0, backoff=0.1, max_backoff=2.0)

STATUS = ("None", "Open", "Closing", "Settled")


def load_abi(build_dir: str | Path = ".build") -> list:
    """The adjudicator ABI from Ape's build output (run `ape compile` first)."""
    return abi_of("ChannelAdjudicator", Path(build_dir) / "__local__.json")


@dataclass(frozen=True)
class OnChain:
    """The adjudicator's record of a channel."""

    a: str
    b: str
    token: str
    status: str
    closer: int
    min_nonce: int
    close_nonce: int
    nonce: int
    deadline: int
    total: int


class ChainClient:
    """One account's view of one adjudicator. Blocking: call it from a thread in async code."""

    def __init__(self, rpc_url: str, contract: str, abi: list, private_key: str) -> None:
        self.w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 30}))
        self.account = Account.from_key(private_key)
        self.address = self.account.address
        self.contract = self.w3.eth.contract(address=Web3.to_checksum_address(contract), abi=abi)
        self.chain_id = self.w3.eth.chain_id
        self.domain = crypto.Domain(self.chain_id, self.contract.address)
        #: The policy of this client's sends (tests swap it); the sender is the account's one.
        self.policy = CHANNEL_SEND_POLICY
        self.sender = L1Sender(self.w3, self.account, CHANNEL_SEND_POLICY)

    # ---------------------------------------------------------------- transactions

    def send(self, fn: Any, value: int = 0, contract: Contract | None = None) -> dict:
        """Sign and send a call of `contract` (default: the adjudicator), wait for it, return the
        receipt. Raises TxFailed if it would revert, reverted, or could not be brought on chain
        (any web3 error, e.g. a JSON-RPC error reply, is one of these: callers handle one type)."""
        target = self.contract if contract is None else contract
        # Concurrent callers (threads of one node) queue on the account's sender, the check
        # included: it then sees the state every earlier transaction left.
        with self.sender.lock:
            try:
                fn.call({"from": self.address, "value": value})
            except ContractLogicError as e:
                raise TxFailed(f"{fn.fn_name} would revert: {e}") from e
            except Web3Exception as e:
                raise TxFailed(f"{fn.fn_name}: the node could not check the call: {e!r}") from e
            tx = {
                "to": target.address,
                "data": target.encode_abi(fn.fn_name, args=fn.args),
                "value": value,
            }
            try:
                sent = self.sender.send(tx, policy=self.policy)
            except (SendError, Web3Exception) as e:
                raise TxFailed(f"{fn.fn_name}: {e}") from e
            return sent.receipt

    def approve(self, token: str, amount: int, abi: list) -> dict:
        t = self.w3.eth.contract(address=Web3.to_checksum_address(token), abi=abi)
        return self.send(t.functions.approve(self.contract.address, amount), contract=t)

    def open(self, peer: str, token: str, period: int, amount: int) -> tuple[bytes, dict]:
        value = amount if int(token, 16) == 0 else 0
        rcpt = self.send(self.contract.functions.open(peer, token, period, amount), value)
        ev = self.contract.events.ChannelOpened().process_receipt(rcpt, errors=DISCARD)[0]
        return bytes(ev["args"]["channelId"]), rcpt

    def fund(self, channel_id: bytes, amount: int, eth: bool) -> dict:
        return self.send(self.contract.functions.fund(channel_id, amount), amount if eth else 0)

    def adjust(
        self,
        s: State,
        party: int,
        deposit: int,
        withdrawal: int,
        expiry: int,
        sig_a: bytes,
        sig_b: bytes,
        eth: bool,
    ) -> dict:
        adj = (s.as_tuple(), party, deposit, withdrawal, expiry)
        return self.send(self.contract.functions.adjust(adj, sig_a, sig_b), deposit if eth else 0)

    def cooperative_close(
        self, channel_id: bytes, nonce: int, bal_a: int, bal_b: int, sig_a: bytes, sig_b: bytes
    ) -> dict:
        c = (channel_id, nonce, bal_a, bal_b)
        return self.send(self.contract.functions.cooperativeClose(c, sig_a, sig_b))

    def close(self, s: State, sig_a: bytes, sig_b: bytes) -> dict:
        return self.send(self.contract.functions.close(s.as_tuple(), sig_a, sig_b))

    def dispute(self, s: State, sig_a: bytes, sig_b: bytes) -> dict:
        return self.send(self.contract.functions.dispute(s.as_tuple(), sig_a, sig_b))

    def dispute_for(
        self, s: State, sig_a: bytes, sig_b: bytes, expiry: int, delegation_sig: bytes
    ) -> dict:
        d = (s.channel_id, self.address, expiry)
        return self.send(
            self.contract.functions.disputeFor(s.as_tuple(), sig_a, sig_b, d, delegation_sig)
        )

    def settle(self, channel_id: bytes) -> dict:
        return self.send(self.contract.functions.settle(channel_id))

    def register_secret(self, secret: bytes) -> dict:
        return self.send(self.contract.functions.registerSecret(secret))

    def unlock(
        self, channel_id: bytes, locks: list[Lock], indices: list[int], proofs: list[list[bytes]]
    ) -> dict:
        ls = [(x.sender, x.amount, x.hashlock, x.expiry) for x in locks]
        return self.send(self.contract.functions.unlock(channel_id, ls, indices, proofs))

    def is_unlocked(self, channel_id: bytes, index: int) -> bool:
        bits = self.contract.functions.unlockedBits(channel_id, index >> 8).call()
        return bool(bits >> (index & 255) & 1)

    def claim(self, token: str) -> dict:
        return self.send(self.contract.functions.claim(token))

    # ---------------------------------------------------------------- reads

    def channel(self, channel_id: bytes) -> OnChain:
        c = self.contract.functions.getChannel(channel_id).call()
        return OnChain(
            a=c[0],
            b=c[1],
            token=c[2],
            status=STATUS[c[3]],
            closer=c[5],
            min_nonce=c[7],
            close_nonce=c[8],
            nonce=c[9],
            deadline=c[10],
            total=c[11],
        )

    def claimable(self, token: str, account: str) -> int:
        return self.contract.functions.claimable(token, account).call()

    def secret_revealed_at(self, hashlock: bytes) -> int:
        return self.contract.functions.secretRevealedAt(hashlock).call()

    def block_number(self) -> int:
        return self.w3.eth.block_number

    def now(self) -> int:
        return self.w3.eth.get_block("latest")["timestamp"]

    def closed_events(self, from_block: int, to_block: int) -> list[dict]:
        logs = self.contract.events.ChannelClosed().get_logs(
            from_block=from_block, to_block=to_block
        )
        return [
            {
                "channel_id": bytes(x["args"]["channelId"]),
                "closer": x["args"]["closer"],
                "nonce": x["args"]["nonce"],
                "deadline": x["args"]["deadline"],
                "tx": bytes(x["transactionHash"]),
            }
            for x in logs
        ]

    def close_data(self, tx_hash: bytes) -> tuple[bytes, int, bytes, bytes] | None:
        """(channel id, nonce, sig_a, sig_b) of the state a `close` transaction published, read
        from its calldata; None if the transaction is not a direct call of `close` on this
        adjudicator (e.g. a close made through a contract wallet)."""
        tx = self.w3.eth.get_transaction(HexBytes(tx_hash))
        if tx.get("to") is None or tx["to"].lower() != self.contract.address.lower():
            return None
        try:
            fn, args = self.contract.decode_function_input(tx["input"])
        except ValueError:
            return None
        if fn.fn_name != "close":
            return None
        st = args["s"]
        st = st if isinstance(st, (tuple, list)) else tuple(st.values())
        return bytes(st[0]), int(st[1]), bytes(args["sigA"]), bytes(args["sigB"])

    def secret_events(self, from_block: int, to_block: int) -> list[tuple[bytes, bytes, int]]:
        logs = self.contract.events.SecretRegistered().get_logs(
            from_block=from_block, to_block=to_block
        )
        return [
            (bytes(x["args"]["hashlock"]), bytes(x["args"]["secret"]), x["args"]["timestamp"])
            for x in logs
        ]


def require(cond: bool, msg: str) -> None:
    if not cond:
        raise ChannelError(msg)
