"""The validator service: follow the rollup, rebuild the L2 state from L1 data alone, and prove
the first wrong commitment as soon as it appears. `python -m offchain.operator.validator_service`.

It trusts nothing but L1: batch data comes from the calldata of the posting transactions, deposits
from the bridge's logs (checked against its accumulators). It re-checks whenever the rollup's head
moves, and submits a fraud proof (through the retrying sender) for a non-final wrong batch.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass, field

from eth_account import Account as EthAccount
from web3 import Web3

from offchain.deployments import load_deployment
from offchain.errors import L2KitError
from offchain.operator.l1_sender import SendError, SendPolicy, send_transaction
from offchain.rollup.l1 import RollupL1, Signer
from offchain.rollup.proofs import FraudProof, commitment_for
from offchain.rollup.validator import Validator

log = logging.getLogger("l2kit.validator")

#: Anvil's second well-known test key: the default challenger on chain 31337 only.
ANVIL_KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


@dataclass
class ValidatorStats:
    checks: int = 0
    batches_verified: int = 0
    frauds_found: int = 0
    frauds_proven: int = 0
    last_root: str = ""
    proofs: list[str] = field(default_factory=list)


class ValidatorService:
    def __init__(
        self, rpc: str, rollup: str, bridge: str, key: bytes, policy: SendPolicy | None = None
    ) -> None:
        self.w3 = Web3(Web3.HTTPProvider(rpc, request_kwargs={"timeout": 30}))
        self.l1 = RollupL1(self.w3, rollup, bridge)
        self.account = EthAccount.from_key(key)
        self.validator = Validator(self.l1, Signer(self.w3, key))
        self.policy = policy or SendPolicy()
        self.stats = ValidatorStats()
        self._seen: tuple | None = None

    def _head(self) -> tuple:
        r = self.l1.rollup.functions
        return (
            r.batchCount().call(),
            bytes(r.head().call()[0]),
            self.l1.bridge.functions.depositCount().call(),
        )

    def check_once(self) -> str | None:
        """Re-validate if the head moved; prove fraud if found. Returns the proof tx hash."""
        head = self._head()
        if head == self._seen:
            return None
        result = self.validator.check()
        self.stats.checks += 1
        self.stats.batches_verified = result.batches_ok
        self.stats.last_root = "0x" + result.state.root.hex()
        if result.fraud is None:
            self._seen = head
            log.info("%d batches verified, L2 root %s", result.batches_ok, self.stats.last_root)
            return None
        fraud = result.fraud
        self.stats.frauds_found += 1
        log.warning(
            "FRAUD in batch %d commitment %d: %s (tx %d); proving it",
            fraud.batch_index,
            fraud.commitment_index,
            fraud.fault.name,
            fraud.tx_index,
        )
        if self.l1.rollup.functions.isFinal(fraud.batch_index).call():
            log.error("batch %d is already final: too late to prove it", fraud.batch_index)
            self._seen = head
            return None
        try:
            sent = self._commit_and_reveal(fraud.proof)
        except SendError as exc:
            # Someone else proved it first (the batch is gone; its bounty was claimed if our
            # commitment was earlier) or the evidence went stale.
            log.warning("fraud proof failed (%s); re-checking", exc)
            return None
        self.stats.frauds_proven += 1
        self.stats.proofs.append(sent.tx_hash)
        log.warning(
            "fraud proven in %s (gas %d): batches from %d rolled back",
            sent.tx_hash,
            sent.receipt["gasUsed"],
            fraud.batch_index,
        )
        return sent.tx_hash

    def _send(self, data: str, gas: int | None = None):
        def build() -> dict:
            tx = {"to": self.l1.rollup.address, "data": data}
            if gas is not None:
                tx["gas"] = gas
            return tx

        return send_transaction(self.w3, self.account, build, self.policy)

    def _commit_and_reveal(self, proof: FraudProof):
        """Commit to the proof (bound to our address), reveal it in a later block; if another
        prover got there first, claim its bounty with our earlier commitment, then re-raise."""
        c = commitment_for(proof, self.account.address, os.urandom(32))
        rollup = self.l1.rollup
        committed = self._send(rollup.encode_abi("commitFraud", args=[c.hash()]), gas=100_000)
        at = int(committed.receipt["blockNumber"])
        reveal = rollup.encode_abi("revealFraud", args=[proof.as_abi(), c.challenger, c.salt])
        try:
            return self._send(reveal)
        except SendError:  # mined and reverted, or refused at estimation: someone was first
            for b in self.l1.bounties_for(c.batch_index, c.batch_hash, from_block=at):
                if b.amount and at < b.proven_block and at < b.commit_block:
                    args = [b.id, c.challenger, c.salt]
                    self._send(rollup.encode_abi("claimBounty", args=args), gas=200_000)
                    log.warning("fraud proven by someone else first: bounty %d claimed", b.id)
            raise

    def run(self, stop: threading.Event, poll: float = 1.0) -> None:
        backoff = poll
        while not stop.is_set():
            try:
                self.check_once()
                backoff = poll
            except Exception as exc:  # an RPC hiccup must not stop the watch
                log.exception("check failed: %s", exc)
                backoff = min(backoff * 2, 30.0)
            stop.wait(backoff)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="validator", description="l2kit rollup validator")
    p.add_argument("--rpc", default=os.environ.get("L2KIT_RPC"), help="L1 JSON-RPC URL")
    p.add_argument("--network", default="ethereum:local", help="deployment to follow")
    p.add_argument(
        "--key-env",
        default="L2KIT_CHALLENGER_KEY",
        help="environment variable with the challenger's private key",
    )
    p.add_argument("--poll", type=float, default=1.0, help="seconds between checks")
    args = p.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr
    )
    try:
        deployment = load_deployment(args.network)
        rpc = args.rpc or deployment.rpc
        key = os.environ.get(args.key_env)
        if not key:
            if Web3(Web3.HTTPProvider(rpc)).eth.chain_id != 31337:
                raise L2KitError(f"set {args.key_env} to the challenger's private key (hex)")
            key = ANVIL_KEY_1
        service = ValidatorService(
            rpc,
            deployment.address("Rollup"),
            deployment.address("RollupBridge"),
            bytes.fromhex(key.removeprefix("0x")),
        )
    except L2KitError as exc:
        print(f"validator: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"READY validator {service.account.address}", flush=True)
    service.run(stop, args.poll)
    return 0


if __name__ == "__main__":
    sys.exit(main())
