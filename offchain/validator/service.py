"""The validator service: follow the rollup, rebuild the L2 state from L1 data alone, and prove
the first wrong commitment as soon as it appears. `python -m offchain.validator.service`.

It trusts nothing but L1: batch data comes from the calldata of the posting transactions, deposits
from the bridge's logs (checked against its accumulators). It re-checks whenever the rollup's head
or its final prefix moves, and submits a fraud proof (through the retrying sender) for a non-final
wrong batch. It never goes quiet: a batch it cannot read (and every batch built on it), a batch
that became final before it was checked, and a wrong batch found too late are alarms: an error
log, fields of the status (`--status-file`, JSON), and exit code 1 of a one-shot `--once` check.
RPC errors are retried after a short, bounded back-off that resets as soon as a check succeeds;
checks that keep failing (3 in a row, or none succeeded for `stale_after` seconds) are an alarm.

It keeps the verified L2 state in memory between heads and persists checkpoints of it
(`--checkpoint-dir`, by default next to the status file; docs/checkpoints.md), so a new head costs
the new batches and a restart the batches since the last checkpoint; a rollback or reorg that
removed a checkpoint's batch invalidates it (offchain/validator/follow.py). `--status-port`
serves /status (with its lag behind L1 in blocks and batches), /health and /checkpoint.

A fraud it finds is committed to once (`commitFraud` over the proof's hash) and revealed in a
later block; the commitment is kept in memory and in the status file, so a failed reveal is
retried, after a restart too, with that same commitment. A fraud it cannot prove (the batch is no
longer disputable, or the transaction failed) is an alarm (`unproven_fraud`). When the batch's
window closes within `urgent_margin` seconds it sends `proveFraud` directly instead.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from eth_account import Account as EthAccount
from web3 import Web3

from offchain.deployments import load_deployment
from offchain.errors import L2KitError
from offchain.governance.chain import TimelockReader
from offchain.governance.watch import status_json
from offchain.l1.sender import L1Sender, SendError, SendPolicy, Sent
from offchain.rollup.blob_read import beacon_for
from offchain.rollup.checkpoint import Checkpoint
from offchain.rollup.l1 import RollupL1, Signer
from offchain.rollup.proofs import commitment_for
from offchain.rollup.validator import AnyProof, Validator, entry
from offchain.sequencer.preflight import check_deployment, connect_once, parse_key
from offchain.validator.follow import CheckpointFiles, Follower
from offchain.validator.fraud import (
    SentCommitment,
    cannot_check_alarm,
    must_prove_now,
    reusable,
    unproven_alarm,
)
from offchain.validator.status_http import status_server
from offchain.validator.watch import Observation, Status, Watch, observe

log = logging.getLogger("l2kit.validator")

#: Anvil's second well-known test key: the default challenger on chain 31337 only.
ANVIL_KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
#: Longest wait after failed checks (RPC down): short, so the watch resumes promptly.
MAX_BACKOFF = 2.0
#: Failed checks in a row that make an alarm.
MAX_ERRORS_IN_A_ROW = 3


@dataclass
class ValidatorStats:
    checks: int = 0
    batches_verified: int = 0
    frauds_found: int = 0
    frauds_proven: int = 0
    last_root: str = ""
    proofs: list[str] = field(default_factory=list)
    #: The last check's findings (None before the first check succeeded).
    status: Status | None = None
    #: Failed checks in a row, and the last failure.
    errors_in_a_row: int = 0
    last_error: str | None = None
    last_check_at: float | None = None
    #: When the stats were created (the start of the "no successful check yet" clock).
    started_at: float = field(default_factory=time.time)
    #: Seconds without a successful check that make an alarm.
    stale_after: float = 30.0
    #: Frauds found but not proven (batch -> why), reported as alarms until proven or gone.
    unproven: dict[int, str] = field(default_factory=dict)
    #: Mined fraud commitments not yet revealed, by proof hash (persisted in the status file).
    commitments: dict[str, SentCommitment] = field(default_factory=dict)
    #: The timelock's scheduled operations (None: no timelock watched).
    governance: dict[str, Any] | None = None

    def service_alarms(self, now: float) -> list[str]:
        """Alarms of the service itself (not of the chain it watches)."""
        out = [unproven_alarm(b, why) for b, why in sorted(self.unproven.items())]
        since = now - (self.last_check_at or self.started_at)
        if self.errors_in_a_row >= MAX_ERRORS_IN_A_ROW or since > self.stale_after:
            out.append(cannot_check_alarm(self.last_error, since))
        return out

    def to_json(self, now: float | None = None) -> dict[str, Any]:
        watched = self.status.to_json() if self.status else {"alarm": False, "alarms": []}
        alarms = list(cast("list[str]", watched["alarms"]))
        alarms += self.service_alarms(time.time() if now is None else now)
        return {
            "checks": self.checks,
            "batches_verified": self.batches_verified,
            "frauds_found": self.frauds_found,
            "frauds_proven": self.frauds_proven,
            "last_root": self.last_root,
            "proofs": self.proofs,
            "last_check_at": self.last_check_at,
            "errors_in_a_row": self.errors_in_a_row,
            "last_error": self.last_error,
            "unproven_fraud": [{"batch": b, "error": e} for b, e in sorted(self.unproven.items())],
            "commitments": [c.to_json() for c in self.commitments.values()],
            "governance": self.governance,
            **watched,
            "alarm": bool(alarms),
            "alarms": alarms,
        }


class ValidatorService:
    def __init__(
        self,
        rpc: str,
        rollup: str,
        bridge: str,
        key: bytes,
        policy: SendPolicy | None = None,
        status_file: Path | None = None,
        poll: float = 1.0,
        urgent_margin: float | None = None,
        checkpoint_dir: Path | None = None,
        checkpoint_every: int = 1,
        beacon_url: str | None = None,
        timelock: str | None = None,
    ) -> None:
        # No hidden retries inside web3: a failed check fails fast, and `run` decides when to retry.
        self.w3 = Web3(
            Web3.HTTPProvider(
                rpc, request_kwargs={"timeout": 30}, exception_retry_configuration=None
            )
        )
        #: Blob batches' blobs come from this beacon API (default: the L1 RPC URL, as on Anvil).
        self.l1 = RollupL1(self.w3, rollup, bridge, beacon_for(beacon_url, self.w3))
        self.account = EthAccount.from_key(key)
        self.policy = policy or SendPolicy()
        #: The validator account's one L1 sender: its library calls (Signer) and its fraud-proof
        #: sends share it, so their nonces never race.
        self.sender = L1Sender(self.w3, self.account, self.policy)
        self.validator = Validator(self.l1, Signer.of(self.sender))
        self.stats = ValidatorStats(stale_after=max(30.0, 10 * poll))
        self.status_file = status_file
        if checkpoint_dir is None and status_file is not None:
            checkpoint_dir = default_checkpoint_dir(status_file)
        files = CheckpointFiles(checkpoint_dir) if checkpoint_dir is not None else None
        #: The verified state between heads and its checkpoints (offchain/validator/follow.py).
        self.follower = Follower(self.l1, files, every=checkpoint_every)
        #: L1 head block and the rollup's live count at the last check (for the lag figures).
        self.l1_head: int | None = None
        self.synced_block: int | None = None
        self._exported: tuple[Checkpoint | None, bytes | None] = (None, None)
        self._snapshot_lock = threading.Lock()
        self._snapshot: dict[str, Any] = {"status": self.stats.to_json(), "checkpoint_bytes": None}
        #: Set while `run` loops (the health endpoint reports it).
        self.running = False
        self.watch = _load_watch(status_file)
        self.stats.commitments = _load_commitments(status_file)
        #: Prove directly (no commit-then-reveal) when the window closes within this many seconds:
        #: by default two polls and two 12 s blocks.
        self.urgent_margin = 2 * poll + 24 if urgent_margin is None else urgent_margin
        self._seen: tuple | None = None
        #: The governance timelock (deployment key `Timelock`): /status reports its scheduled
        #: operations and the time users have left to exit before each (docs/governance.md §4.2).
        self.timelock = TimelockReader(self.w3, timelock) if timelock else None

    def _head(self) -> tuple:
        r = self.l1.rollup.functions
        count = r.batchCount().call()
        return (
            count,
            bytes(r.batches(count - 1).call()[0]) if count else b"",
            r.finalizedCount().call(),
            r.forcedCount().call(),
            self.l1.bridge.functions.depositCount().call(),
        )

    def _observe(self, head: tuple, inspection: Any) -> Status:
        """Fold a check into the watch record; log and persist what it found."""
        reading, result = inspection.reading, inspection.result
        unreadable = reading.unreadable
        obs = Observation(
            batch_hashes=reading.hashes,
            finalized=min(head[2], reading.count),
            verified=result.batches_ok,
            fraud=result.fraud.batch_index if result.fraud else None,
            unreadable=(unreadable.index, unreadable.reason) if unreadable else None,
            first=reading.start,
        )
        self.watch, status = observe(self.watch, obs)
        self.stats.status = status
        for alarm in status.new_alarms:
            log.error("ALARM: %s", alarm)
        return status

    def lag(self) -> dict[str, Any]:
        """How far behind L1 the last successful check is, in blocks and in batches."""
        status = self.stats.status
        head, synced = self.l1_head, self.synced_block
        return {
            "head_block": head,
            "synced_block": synced,
            "lag_blocks": head - synced if head is not None and synced is not None else None,
            "lag_batches": status.lag if status is not None else None,
        }

    def checkpoint_summary(self) -> dict[str, Any] | None:
        c = self.follower.point
        if c is None:
            return None
        return {
            "batches": c.batches,
            "root": "0x" + c.root.hex(),
            "l1_block": c.anchor.block_number,
            "accounts": len(c.accounts),
        }

    def publish(self) -> dict[str, Any]:
        """Snapshot the status for readers on other threads (the status endpoint)."""
        point = self.follower.point
        if point is not self._exported[0]:  # serialized once per new point, not per poll
            self._exported = (point, point.to_bytes() if point is not None else None)
        snapshot = {
            "status": {
                **self.stats.to_json(),
                "l1": self.lag(),
                "checkpoint": self.checkpoint_summary(),
            },
            "checkpoint_bytes": self._exported[1],
        }
        with self._snapshot_lock:
            self._snapshot = snapshot
        return snapshot

    def snapshot(self) -> dict[str, Any]:
        with self._snapshot_lock:
            return self._snapshot

    def write_status(self) -> None:
        """Publish the status; write it and the watch record (atomically) to the status file, if
        any."""
        published = self.publish()
        if self.status_file is None:
            return
        body = {
            "status": published["status"],
            "watch": self.watch.to_json(),
            "commitments": [c.to_json() for c in self.stats.commitments.values()],
        }
        tmp = self.status_file.with_name(self.status_file.name + ".tmp")
        tmp.write_text(json.dumps(body, indent=1))
        os.replace(tmp, self.status_file)

    def check_once(self) -> str | None:
        """Re-validate if the head or the final prefix moved; prove fraud if found. Returns the
        proof tx hash. Alarms land in `stats.status` (and the log); RPC errors propagate."""
        block = int(self.w3.eth.block_number)
        if self.timelock is not None:
            report = self.timelock.follow()
            self.stats.governance = status_json(
                report.changes, self.timelock.timelock.address, report.exit_time, report.margin
            )
        head = self._head()
        self.l1_head = block
        if head == self._seen:
            self.synced_block = block
            return None
        inspection = self.follower.inspect(
            self.l1.disputable_end(), min(self.watch.settled, head[2])
        )
        self.synced_block = block
        status = self._observe(head, inspection)
        result = inspection.result
        self.stats.checks += 1
        self.stats.batches_verified = result.batches_ok
        self.stats.last_root = "0x" + result.state.root.hex()
        if result.fraud is None:
            self.stats.unproven.clear()
            # An unreadable batch is re-read every poll, so the watch resumes as soon as it can.
            self._seen = head if status.unreadable is None else None
            log.info("%d batches verified, L2 root %s", result.batches_ok, self.stats.last_root)
            return None
        fraud = result.fraud
        b = fraud.batch_index
        self.stats.unproven = {k: v for k, v in self.stats.unproven.items() if k == b}
        self.stats.frauds_found += 1
        log.warning(
            "FRAUD in batch %d commitment %d: %s (tx %d); proving it",
            b,
            fraud.commitment_index,
            fraud.fault.name,
            fraud.tx_index,
        )
        if not self.l1.rollup.functions.isDisputable(b).call():
            # Final, or discarded by a freeze and past its window: no transaction can prove it.
            self._unproven(b, "it can no longer be proven (the batch is not disputable)")
            self._seen = head
            return None
        try:
            sent = self._prove(fraud.proof)
        except SendError as exc:
            # Someone else proved it first (the next check no longer finds it; its bounty was
            # claimed if our commitment was earlier), or the transaction failed: an alarm until
            # then, and the next poll retries with the same commitment.
            self._unproven(b, f"proof transaction failed: {exc}")
            return None
        self.stats.unproven.pop(b, None)
        self.stats.frauds_proven += 1
        self.stats.proofs.append(sent.tx_hash)
        log.warning(
            "fraud proven in %s (gas %d): batches from %d rolled back",
            sent.tx_hash,
            sent.receipt["gasUsed"],
            b,
        )
        return sent.tx_hash

    def _unproven(self, batch: int, why: str) -> None:
        if self.stats.unproven.get(batch) != why:
            log.error("ALARM: %s", unproven_alarm(batch, why))
        self.stats.unproven[batch] = why

    def _send(self, data: str, gas: int | None = None) -> Sent:
        """Send `data` to the rollup; gas is the node's estimate plus the policy's margin unless
        `gas` is given (no caller here fixes it; tests wrap this method with the same shape)."""
        return self.sender.send({"to": self.l1.rollup.address, "data": data}, gas=gas)

    def _prove(self, proof: AnyProof) -> Sent:
        """Prove `proof` (a state fraud, or a bad aggregate signature: the signature dispute,
        same commit-then-reveal): directly when its window is about to close, else
        commit-then-reveal."""
        window_end = (
            self._posted_at(proof.batch_index) + self.l1.rollup.functions.challengePeriod().call()
        )
        now = self.w3.eth.get_block("latest")["timestamp"]
        kept = reusable(self.stats.commitments, proof.proof_hash(), self.account.address)
        if kept is None and must_prove_now(window_end, now, self.urgent_margin):
            log.warning(
                "batch %d's window closes in %d s: proving without commitment",
                proof.batch_index,
                window_end - now,
            )
            direct = entry(proof, "prove")
            return self._send(self.l1.rollup.encode_abi(direct, args=[proof.as_abi()]))
        return self._commit_and_reveal(proof, kept)

    def _posted_at(self, index: int) -> int:
        """When the latest posting at `index` was mined (its `postedAt`), from the logs: the
        `batches(i)` view refuses a batch discarded by a freeze, which may still be disputable."""
        logs = self.l1.rollup.events.BatchPosted.get_logs(
            from_block=0, argument_filters={"index": index}
        )
        return int(self.w3.eth.get_block(logs[-1]["blockNumber"])["timestamp"])

    def _commit_and_reveal(self, proof: AnyProof, kept: SentCommitment | None) -> Sent:
        """Commit to the proof (bound to our address) unless `kept` is that commitment already,
        reveal it in a later block; if another prover got there first, claim its bounty with our
        earlier commitment, then re-raise."""
        rollup = self.l1.rollup
        if kept is None:
            c = commitment_for(proof, self.account.address, os.urandom(32))
            committed = self._send(rollup.encode_abi("commitFraud", args=[c.hash()]))
            kept = SentCommitment(c, int(committed.receipt["blockNumber"]))
            self.stats.commitments["0x" + c.proof_hash.hex()] = kept
            self.write_status()  # a restart reveals this commitment instead of making another
        c, at = kept.commitment, kept.block
        name = entry(proof, "reveal")
        reveal = rollup.encode_abi(name, args=[proof.as_abi(), c.challenger, c.salt])
        try:
            sent = self._send(reveal)
        except SendError:  # mined and reverted, or refused at estimation: someone was first
            for b in self.l1.bounties_for(c.batch_index, c.batch_hash, from_block=at):
                if b.proof_hash != c.proof_hash:
                    continue  # another proof of the batch: our commitment does not cover it
                # Our proof is on chain: the commitment has served (claimed if it was earlier).
                self.stats.commitments.pop("0x" + c.proof_hash.hex(), None)
                if b.amount and at < b.proven_block and at < b.commit_block:
                    args = [b.id, c.challenger, c.salt]
                    self._send(rollup.encode_abi("claimBounty", args=args))
                    log.warning("fraud proven by someone else first: bounty %d claimed", b.id)
            raise
        self.stats.commitments.pop("0x" + c.proof_hash.hex(), None)
        return sent

    def step(self) -> bool:
        """One guarded check: True if it succeeded. A failure is logged and counted, never
        swallowed silently; the status file is rewritten either way."""
        try:
            self.check_once()
        except Exception as exc:  # an RPC hiccup must not stop the watch
            self.stats.errors_in_a_row += 1
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            log.error("check failed (%d in a row): %s", self.stats.errors_in_a_row, exc)
            self.write_status()
            return False
        self.stats.errors_in_a_row = 0
        self.stats.last_error = None
        self.stats.last_check_at = time.time()
        self.write_status()
        return True

    def run(self, stop: threading.Event, poll: float = 1.0) -> None:
        """Check every `poll` seconds; after failures wait at most MAX_BACKOFF, and go back to
        `poll` as soon as a check succeeds."""
        wait = poll
        self.running = True
        try:
            while not stop.is_set():
                wait = next_wait(wait, poll, self.step())
                stop.wait(wait)
        finally:
            self.running = False


def default_checkpoint_dir(status_file: Path) -> Path:
    """Where checkpoints go by default: next to the status file."""
    return status_file.with_name(status_file.name + ".checkpoints")


def next_wait(previous: float, poll: float, ok: bool) -> float:
    """Seconds until the next check: `poll` after a success, else double the last wait, capped at
    MAX_BACKOFF (or `poll` if that is longer)."""
    if ok:
        return poll
    return min(max(previous, poll) * 2, max(MAX_BACKOFF, poll))


def _load_commitments(path: Path | None) -> dict[str, SentCommitment]:
    if path is None or not path.exists():
        return {}
    try:
        rows = json.loads(path.read_text()).get("commitments", [])
        sent = [SentCommitment.from_json(r) for r in rows]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise L2KitError(
            f"status file {path} has unreadable fraud commitments ({exc}); move it away to start "
            "afresh"
        ) from exc
    return {"0x" + s.commitment.proof_hash.hex(): s for s in sent}


def _load_watch(path: Path | None) -> Watch:
    if path is None or not path.exists():
        return Watch()
    try:
        return Watch.from_json(json.loads(path.read_text())["watch"])
    except (ValueError, KeyError, TypeError) as exc:
        raise L2KitError(
            f"status file {path} is not a validator status ({exc}); move it away to start afresh"
        ) from exc


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number of batches")
    return value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="validator", description="l2kit rollup validator")
    p.add_argument("--rpc", default=os.environ.get("L2KIT_RPC"), help="L1 JSON-RPC URL")
    p.add_argument("--network", default="ethereum:local", help="deployment to follow")
    p.add_argument(
        "--key-env",
        default="L2KIT_CHALLENGER_KEY",
        help="environment variable with the challenger's private key",
    )
    p.add_argument(
        "--beacon-url",
        default=os.environ.get("L2KIT_BEACON_URL"),
        help="beacon API (or blob archiver) the blobs of blob batches are read from "
        "(default: $L2KIT_BEACON_URL, else the L1 RPC URL, which Anvil serves it on)",
    )
    p.add_argument("--poll", type=float, default=1.0, help="seconds between checks")
    p.add_argument(
        "--urgent-margin",
        type=float,
        help="prove a fraud directly, without commit-then-reveal, when its batch's window closes "
        "within this many seconds (default: 2 polls + 24 s)",
    )
    p.add_argument(
        "--status-file",
        type=Path,
        help="JSON status (alarms, lag, what was checked) rewritten after every check; "
        "also the record that lets a restart tell batches that became final while it was down",
    )
    p.add_argument(
        "--checkpoint-dir",
        type=Path,
        help="directory of verified checkpoints (default: <status-file>.checkpoints; none "
        "without a status file): a restart replays only the batches after the newest valid one",
    )
    p.add_argument(
        "--checkpoint-every",
        type=_positive,
        default=1,
        help="save a checkpoint every this many newly verified batches (default 1)",
    )
    p.add_argument(
        "--status-port",
        type=int,
        help="serve GET /status (alarms, lag behind L1), /health and /checkpoint on this port",
    )
    p.add_argument("--status-host", default="127.0.0.1", help="address of the status endpoint")
    p.add_argument(
        "--once",
        action="store_true",
        help="check once and exit: 0 all verified, 1 alarm, 3 could not check",
    )
    args = p.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr
    )
    try:
        # Fail fast (offchain.sequencer.preflight): one probe each, one line on failure.
        deployment = load_deployment(args.network)
        rpc = args.rpc or deployment.rpc
        w3 = connect_once(rpc)
        check_deployment(w3, deployment, ("Rollup", "RollupBridge"), rpc)
        key = os.environ.get(args.key_env)
        if not key:
            if w3.eth.chain_id != 31337:
                raise L2KitError(f"set {args.key_env} to the challenger's private key (hex)")
            key = ANVIL_KEY_1
        parse_key(key, args.key_env)
        service = ValidatorService(
            rpc,
            deployment.address("Rollup"),
            deployment.address("RollupBridge"),
            bytes.fromhex(key.strip().removeprefix("0x")),
            status_file=args.status_file,
            poll=args.poll,
            urgent_margin=args.urgent_margin,
            checkpoint_dir=args.checkpoint_dir,
            checkpoint_every=args.checkpoint_every,
            beacon_url=args.beacon_url,
            timelock=deployment.contracts.get("Timelock"),
        )
    except L2KitError as exc:
        print(f"validator: {exc}", file=sys.stderr)
        return 2
    if args.once:
        return _once(service)
    server = None
    if args.status_port is not None:
        try:
            server = status_server(service, args.status_host, args.status_port)
            server.start()
        except OSError as exc:
            print(
                f"validator: cannot serve the status on {args.status_host}:{args.status_port} "
                f"({exc}): pick another --status-port",
                file=sys.stderr,
            )
            return 2
        log.info("status endpoint on %s", server.url)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"READY validator {service.account.address}", flush=True)
    try:
        service.run(stop, args.poll)
    finally:
        if server is not None:
            server.stop()
    return 0


def _once(service: ValidatorService) -> int:
    ok = service.step()
    print(json.dumps(service.stats.to_json(), indent=1), flush=True)
    if not ok:
        return 3
    status = service.stats.status
    # Alarms found by this check; a sticky report of an earlier run already failed that run.
    new = status is not None and status.new_alarms
    return 1 if new or service.stats.unproven else 0


if __name__ == "__main__":
    sys.exit(main())
