"""The optimistic-rollup part of the demo: real processes, real signatures, real L1 transactions.

Each step talks to the batcher over its HTTP API and to L1 through web3, exactly as a user would.
Format v2: every user derives a BLS key from their L1 wallet and registers it once; transfers
carry no signature on L1, each commitment one 48-byte aggregate.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from offchain.bls import SecretKey, g2_words
from offchain.chain import abi_of
from offchain.errors import DemoError
from offchain.l1.sender import L1Sender, SendError, SendPolicy
from offchain.rollup import adversary
from offchain.rollup.codec import decode_batch, encode_batch
from offchain.rollup.l1 import RollupL1
from offchain.rollup.replay import replay
from offchain.rollup.types import SignedTransfer
from offchain.rollup.wallet import derive_key, sign_transfer, sign_withdraw

ETH = "0x0000000000000000000000000000000000000000"
#: The demo's node mines at once: a minute without a receipt means something is wrong.
DEMO_SEND_POLICY = SendPolicy(max_attempts=3, receipt_timeout=60.0)
Log = Callable[[str], None]


@dataclass
class RollupFigures:
    deposits: int = 0
    transfers_accepted: int = 0
    transfers_seconds: float = 0.0
    withdrawals_paid: int = 0
    challenge: str = "not run"
    proof_gas: int = 0
    batches: int = 0
    l1_bytes: int = 0
    l1_post_gas: int = 0
    transfers_on_l1: int = 0
    commitments_on_l1: int = 0
    aggregates_on_l1: int = 0
    notes: list[str] = field(default_factory=list)


def http(url: str, method: str = "GET", body: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def wait_for(what: str, predicate: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise DemoError(f"timed out waiting for {what}")


def send(w3: Web3, account: LocalAccount, call, value: int = 0) -> dict:
    """Send a contract call from a demo user through the one L1 sender; returns the receipt."""
    try:
        return L1Sender(w3, account, DEMO_SEND_POLICY).send_call(call, value).receipt
    except SendError as exc:
        raise DemoError(f"L1 transaction failed: {exc}") from exc


@dataclass
class RollupDemo:
    w3: Web3
    bridge: Contract
    rollup: Contract
    users: list[LocalAccount]
    batcher_url: str
    log: Log
    figures: RollupFigures = field(default_factory=RollupFigures)
    _keys: dict[str, SecretKey] = field(default_factory=dict)

    @property
    def l1(self) -> RollupL1:
        return RollupL1(self.w3, self.rollup.address, self.bridge.address)

    @property
    def separator(self) -> bytes:
        """The BLS tag of this rollup's L2 signatures (chain id, rollup address)."""
        return self.l1.signing_dst()

    def key(self, user: LocalAccount) -> SecretKey:
        """The user's BLS key, derived from their L1 wallet (one EIP-712 signature)."""
        if user.address not in self._keys:
            registry = self.rollup.functions.registry().call()
            self._keys[user.address] = derive_key(user, int(self.w3.eth.chain_id), registry)
        return self._keys[user.address]

    def register_keys(self, users: list[LocalAccount]) -> None:
        """Each user registers the BLS key derived from their wallet; the demo node then mines
        past the activation delay (on a live chain the users would wait for those blocks)."""
        registry = self.w3.eth.contract(
            address=self.rollup.functions.registry().call(), abi=abi_of("BLSKeyRegistry")
        )
        for user in users:
            words = g2_words(self.key(user).public_key().eip2537())
            send(self.w3, user, registry.functions.register(words))
        delay = int(registry.functions.activationDelay().call())
        self.w3.provider.make_request("anvil_mine", [hex(delay + 1)])  # type: ignore[arg-type]
        self.log(
            f"{len(users)} users registered the BLS key derived from their L1 wallet "
            f"(in effect {delay} blocks later)"
        )

    def index_of(self, user: LocalAccount) -> int:
        accounts = http(f"{self.batcher_url}/accounts/{user.address}")[1]["accounts"]
        if not accounts:
            raise DemoError(f"{user.address} has no L2 account yet")
        return accounts[0]

    def account(self, index: int) -> dict:
        return http(f"{self.batcher_url}/account/{index}")[1]

    # -- steps -------------------------------------------------------------------------------------

    def deposit(self, amounts: list[int]) -> None:
        for user, amount in zip(self.users, amounts, strict=True):
            recipient = b"\x01" + bytes.fromhex(user.address[2:])
            send(self.w3, user, self.bridge.functions.depositETH(recipient), value=amount)
            self.figures.deposits += 1
        self.log(f"{len(amounts)} users deposited {sum(amounts) / 1e18:.1f} ETH into the bridge")
        wait_for(
            "the batcher to credit the deposits",
            lambda: (
                all(
                    http(f"{self.batcher_url}/accounts/{u.address}")[1]["accounts"]
                    for u in self.users
                )
                and self.rollup.functions.batchCount().call() > 0
            ),
        )
        self.log("the batcher posted the deposits; every user has an L2 account")

    def transfers(self, count: int, amount: int, batched: bool = False) -> list[str]:
        """`count` signed transfers round-robin between users, submitted over HTTP: one
        POST /tx each, or (`batched`) all in one POST /txs, answered in order."""
        indexes = [self.index_of(u) for u in self.users]
        nonces = {i: self.account(i)["nonce"] for i in indexes}
        sep = self.separator
        started = time.monotonic()
        hashes = []
        bodies = []
        for n in range(count):
            s = n % len(self.users)
            sender, recipient = indexes[s], indexes[(s + 1 + n // len(self.users)) % len(indexes)]
            if sender == recipient:
                recipient = indexes[(s + 1) % len(indexes)]
            tx = sign_transfer(
                self.key(self.users[s]), sep, sender, recipient, amount, 0, nonces[sender]
            )
            body = _transfer_json(tx, nonces[sender])
            nonces[sender] += 1
            if batched:
                bodies.append(body)
                continue
            status, answer = http(f"{self.batcher_url}/tx", "POST", body)
            if status != 200:
                raise DemoError(f"transfer {n} refused: {answer}")
            hashes.append(answer["tx_hash"])
            if (n + 1) % max(1, count // 4) == 0:
                self.log(f"  {n + 1}/{count} transfers accepted")
        if batched:
            status, answer = http(f"{self.batcher_url}/txs", "POST", {"txs": bodies})
            refused = [r for r in answer.get("results", []) if "error" in r]
            if status != 200 or refused:
                raise DemoError(f"batched transfers refused: {refused or answer}")
            hashes = [r["tx_hash"] for r in answer["results"]]
            self.log(f"  one POST /txs: {len(hashes)} transfers, each answered durable")
        took = time.monotonic() - started
        self.figures.transfers_seconds += took
        self.figures.transfers_accepted += count
        wait_for(
            "every transfer to be posted to L1",
            lambda: all(
                http(f"{self.batcher_url}/tx/{h}")[1]["status"] in ("posted", "final")
                for h in hashes[-5:]
            ),
        )
        self.log(
            f"{count} transfers accepted in {took:.2f} s "
            f"({count / took:.0f} tx/s over HTTP) and posted to L1"
        )
        return hashes

    def show_operability(self) -> None:
        """A few lines of the batcher's /ready and /metrics answers."""
        status, ready = http(f"{self.batcher_url}/ready")
        self.log(f"GET /ready -> {status} {ready.get('reason', ready)}")
        with urllib.request.urlopen(f"{self.batcher_url}/metrics", timeout=10) as resp:
            text = resp.read().decode()
        wanted = (
            "l2kit_ready ",
            "l2kit_pending_txs ",
            "l2kit_batches_posted_total ",
            "l2kit_txs_accepted_total ",
            "l2kit_intake_group_size_count ",
        )
        shown = [line for line in text.splitlines() if line.startswith(wanted)]
        self.log("GET /metrics (excerpt): " + "; ".join(shown))

    def withdraw_and_claim(self, user: LocalAccount, amount: int, advance: Callable[[], None]):
        index = self.index_of(user)
        nonce = self.account(index)["nonce"]
        w = sign_withdraw(self.key(user), self.separator, index, amount, 0, nonce)
        status, body = http(
            f"{self.batcher_url}/tx",
            "POST",
            {
                "type": "withdraw",
                "from": index,
                "amount": str(amount),
                "fee": "0",
                "nonce": nonce,
                "signature": "0x" + w.signature.hex(),
            },
        )
        if status != 200:
            raise DemoError(f"withdrawal refused: {body}")
        tx_hash = body["tx_hash"]
        wait_for(
            "the withdrawal's batch",
            lambda: http(f"{self.batcher_url}/tx/{tx_hash}")[1]["status"] in ("posted", "final"),
        )
        self.log(
            f"{user.address[:10]}… withdrew {amount / 1e18:.2f} ETH on L2; "
            "waiting out the challenge window"
        )
        advance()
        wait_for(
            "finality",
            lambda: http(f"{self.batcher_url}/withdrawal/{tx_hash}")[1].get("final") is True,
        )
        proof = http(f"{self.batcher_url}/withdrawal/{tx_hash}")[1]["proof"]
        send(self.w3, user, self.rollup.functions.finalizeWithdrawal(_abi_proof(proof)))
        before = self.w3.eth.get_balance(user.address)
        receipt = send(self.w3, user, self.bridge.functions.claim(ETH, user.address))
        fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
        got = self.w3.eth.get_balance(user.address) - before + fee
        if got != amount:
            raise DemoError(f"claimed {got} wei, expected {amount}")
        self.figures.withdrawals_paid += 1
        self.log(
            f"{user.address[:10]}… proved the withdrawal on L1 and claimed {amount / 1e18:.2f} ETH"
        )

    def dishonest_batch(
        self, cheat: LocalAccount, thief: LocalAccount, victim: LocalAccount
    ) -> None:
        """A bonded cheat posts a batch that moves the victim's funds with the thief's signature."""
        l1 = self.l1
        result = replay(
            l1.posted_batches(), l1.deposit_queue(), self.separator, keys=l1.key_history()
        )
        state = result.state
        v, t = self.index_of(victim), self.index_of(thief)
        amount = state.account(v).balance // 2
        bond = self.rollup.functions.requiredBond().call()
        send(self.w3, cheat, self.rollup.functions.bond(), value=bond)
        commitments = adversary.steal(state, self.separator, self.key(thief), v, t, amount)
        before = self.rollup.functions.batchCount().call()
        send(self.w3, cheat, self.rollup.functions.postBatch(state.root, encode_batch(commitments)))
        self.log(
            f"a dishonest proposer posted batch {before}: {amount / 1e18:.2f} ETH moved "
            f"out of account {v}, signed with the thief's BLS key (the aggregate does not verify "
            "under the victim's registered key)"
        )
        wait_for(
            "the validator to prove the fraud",
            lambda: self.rollup.functions.batchCount().call() == before,
            timeout=60,
        )
        logs = self.rollup.events.FraudProven.get_logs(from_block=0)
        last = logs[-1]
        self.figures.proof_gas = int(
            self.w3.eth.get_transaction_receipt(last["transactionHash"])["gasUsed"]
        )
        reason = int(last["args"]["fault"])
        self.figures.challenge = (
            f"fraud proven (fault {reason}), batch {before} rolled back, "
            f"{last['args']['reward'] / 1e18:.2f} ETH bounty to the challenger (after the "
            "claim window), "
            f"{last['args']['burned'] / 1e18:.2f} ETH burned"
        )
        self.log(
            "the validator rebuilt the state from L1, proved the fraud: " + self.figures.challenge
        )

    def measure_l1(self) -> None:
        """L1 bytes and gas of the live batches, and how many transfers they carry."""
        logs = self.rollup.events.BatchPosted.get_logs(from_block=0)
        for b in self.l1.posted_batches():
            posting = [lg for lg in logs if lg["args"]["index"] == b.index][-1]
            receipt = self.w3.eth.get_transaction_receipt(posting["transactionHash"])
            self.figures.batches += 1
            self.figures.l1_bytes += len(b.data)
            self.figures.l1_post_gas += int(receipt["gasUsed"])
            commitments = decode_batch(b.data)
            transfers = sum(len(c.transfers) for c in commitments)
            aggregates = sum(1 for c in commitments if c.signature)
            self.figures.transfers_on_l1 += transfers
            self.figures.commitments_on_l1 += len(commitments)
            self.figures.aggregates_on_l1 += aggregates
            if transfers:
                self.log(
                    f"  batch {b.index}: {len(commitments)} commitments, {transfers} transfers, "
                    f"{aggregates} BLS aggregate signatures (48 B each), {len(b.data)} bytes = "
                    f"{len(b.data) / transfers:.1f} B per transfer"
                )

    def conservation(self) -> tuple[bool, str]:
        """Bridge ETH == what it owes == L2 balances + unpaid withdrawals + unconsumed deposits."""
        l1 = self.l1
        queue = l1.deposit_queue()
        result = replay(l1.posted_batches(), queue, self.separator, keys=l1.key_history())
        if result.fraud is not None:
            raise DemoError("a live batch is fraudulent at the end of the demo")
        bridge = self.bridge.functions
        l2 = result.state.total_balance(ETH)
        unpaid = sum(
            c.amount
            for c in result.withdrawals
            if int(c.token, 16) == 0 and not bridge.isReleased(c.withdrawal_id).call()
        )
        unconsumed = sum(
            d.amount for d in queue[result.state.deposit_end :] if int(d.token, 16) == 0
        )
        released = bridge.pendingClaims(ETH).call()
        owed = bridge.liabilities(ETH).call()
        held = self.w3.eth.get_balance(self.bridge.address)
        ok = held == owed == l2 + unpaid + unconsumed + released
        detail = (
            f"bridge holds {held / 1e18:.4f} ETH = owes {owed / 1e18:.4f} = L2 balances "
            f"{l2 / 1e18:.4f} + unpaid withdrawals {unpaid / 1e18:.4f} + unconsumed deposits "
            f"{unconsumed / 1e18:.4f} + unclaimed {released / 1e18:.4f}"
        )
        return ok, detail


def _transfer_json(signed: SignedTransfer, nonce: int) -> dict:
    tx = signed.tx
    return {
        "type": "transfer",
        "from": tx.sender,
        "to": tx.recipient,
        "amount": str(tx.amount),
        "fee": str(tx.fee),
        "nonce": nonce,
        "signature": "0x" + signed.signature.hex(),
    }


def _abi_proof(proof: list) -> tuple:
    def conv(v):
        if isinstance(v, str) and v.startswith("0x"):
            return bytes.fromhex(v[2:])
        if isinstance(v, str):
            return int(v)
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v

    return tuple(conv(v) for v in proof)
