"""Helpers of the rollup tests: constants and the Env bundle (imported as `rollup_helpers`)."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account as EthAccount
from hexbytes import HexBytes

from offchain.bls import SecretKey
from offchain.rollup.honest_proposer import HonestProposer
from offchain.rollup.l1 import RollupL1, Signer
from offchain.rollup.validator import Validator
from offchain.rollup.wallet import derive_key

BOND = 10**18
CHALLENGE_PERIOD = 3600
FORCED_DELAY = 86_400
LIVENESS_PERIOD = 30 * 86_400
ETH = "0x" + "00" * 20


def recipient(addr: str) -> bytes:
    return b"\x01" + bytes.fromhex(addr[2:])


def key_of(account) -> bytes:
    return bytes(HexBytes(account.private_key))


@dataclass
class Env:
    """One deployed rollup with its bridge, seen through both Ape and web3."""

    w3: object
    bridge: object
    rollup: object
    token: object
    l1: RollupL1
    accounts: list
    dst: bytes  # the rollup's BLS signing tag

    def bls(self, i: int) -> SecretKey:
        """L1 account i's BLS key, derived from its wallet (offchain.rollup.wallet.derive_key)."""
        acct = EthAccount.from_key(self.key(i))
        return derive_key(acct, int(self.w3.eth.chain_id), self.l1.registry.address)

    def register(self, *indexes: int) -> None:
        """Register each account's derived BLS key and mine past the activation delay."""
        entries = [self.l1.register_key(self.signer(i), self.bls(i)) for i in indexes]
        if entries:
            self.l1.wait_key_active(max(entries, key=lambda e: e.from_block), mine=True)

    def signer(self, i: int) -> Signer:
        return Signer(self.w3, key_of(self.accounts[i]))

    def key(self, i: int) -> bytes:
        return key_of(self.accounts[i])

    def addr(self, i: int) -> str:
        return self.accounts[i].address.lower()

    def deposit_eth(self, i: int, amount: int, to: int | None = None) -> None:
        owner = self.addr(i if to is None else to)
        self.signer(i).send(
            self.l1.bridge.functions.depositETH(recipient(owner)), value=amount, gas=200_000
        )

    def deposit_token(self, i: int, amount: int) -> None:
        self.token.mint(self.accounts[i], amount, sender=self.accounts[i])
        self.token.approve(self.bridge, amount, sender=self.accounts[i])
        self.bridge.depositERC20(
            self.token, amount, recipient(self.addr(i)), sender=self.accounts[i]
        )

    def operator(self, i: int = 0, fee_account: int = 0) -> HonestProposer:
        return HonestProposer(self.l1, self.signer(i), fee_account=fee_account)

    def validator(self, i: int = 9) -> Validator:
        return Validator(self.l1, self.signer(i))

    def bond(self, i: int, amount: int = BOND) -> None:
        self.signer(i).send(self.l1.rollup.functions.bond(), value=amount, gas=100_000)

    def advance(self, seconds: int) -> None:
        self.w3.provider.make_request("evm_increaseTime", [seconds])
        self.w3.provider.make_request("evm_mine", [])


def _error_selectors(abi: list) -> dict[str, bytes]:
    from eth_utils import keccak

    out = {}
    for item in abi:
        if item.get("type") == "error":
            types = ",".join(i["type"] for i in item["inputs"])
            out[item["name"]] = keccak(text=f"{item['name']}({types})")[:4]
    return out


def assert_reverts(contract, fn, error: str, sender: str, value: int = 0) -> None:
    """`fn` (a web3 ContractFunction of `contract`) reverts with custom error `error`.

    Uses eth_call through web3: Ape's revert decoding takes seconds on large calldata."""
    from web3.exceptions import ContractCustomError

    selector = _error_selectors(contract.abi)[error]
    try:
        fn.call({"from": sender, "value": value})
    except ContractCustomError as e:
        data = e.data if isinstance(e.data, str) else e.args[0]
        assert bytes.fromhex(data[2:10]) == selector, f"reverted with {data[:10]}, not {error}"
        return
    raise AssertionError(f"call did not revert (expected {error})")


# --------------------------------------------------------------- bonds and bounties


def lie(seed: int) -> bytes:
    """A post-root nobody can reach: what a cheating proposer claims."""
    from eth_utils import keccak

    return keccak(b"lie" + seed.to_bytes(8, "big"))


def post_empty(env: Env, i: int, claimed_root: bytes | None = None) -> int:
    """Account `i` posts a batch of one empty commitment on the current head: honest (the post-root
    is the head's) unless `claimed_root` says otherwise. Returns the batch index."""
    from offchain.rollup.codec import encode_batch
    from offchain.rollup.types import Commitment

    f = env.l1.rollup.functions
    root, deposit_end, forced_end = f.head().call()
    post_root = bytes(root) if claimed_root is None else claimed_root
    data = encode_batch([Commitment(post_root, deposit_end, forced_end, 0)])
    index = f.batchCount().call()
    env.signer(i).send(f.postBatch(bytes(root), data), gas=500_000)
    return index


def empty_proof(env: Env, index: int, claimed_root: bytes):
    """The fraud proof against batch `index` posted by `post_empty(..., claimed_root)`: executing
    no txs leaves the pre-root, so any other claimed root is WRONG_ROOT."""
    from offchain.rollup.execute import execute
    from offchain.rollup.proofs import fraud_proof
    from offchain.rollup.state import L2State
    from offchain.rollup.types import Commitment

    logs = env.l1.rollup.events.BatchPosted.get_logs(
        from_block=0, argument_filters={"index": index}
    )
    a = logs[-1]["args"]  # the latest posting at that index (also after a rollback or freeze)
    c = Commitment(claimed_root, a["depositEnd"], a["forcedEnd"], 0)
    return fraud_proof(index, [c], 0, (), execute(L2State(), c, ()))


def bounty_of(env: Env, receipt) -> int:
    """The id of the bounty a successful proof opened."""
    from web3.logs import DISCARD

    logs = env.l1.rollup.events.BountyOpened().process_receipt(receipt, errors=DISCARD)
    return logs[0]["args"]["id"]
