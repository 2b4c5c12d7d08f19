"""Rollup benchmark on Anvil, format v2 (BLS-aggregated transfers): L1 bytes and gas per transfer
at 1/32/256/1,024 transfers, batch posting gas, worst-case gas of every dispute kind (the
signature dispute over a full commitment of 32 distinct senders included), operator throughput
with BLS. Prints a table and writes bench/results/rollup.json.
Blob mode (issue 12, bench/rollup_blob.py): batches posted in blobs, figures under `blob`;
`python bench/rollup.py --blob` measures only those and updates them in the existing file.
Run: `python bench/rollup.py` (project env: docs/rollup.md)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from hexbytes import HexBytes
from web3.logs import DISCARD

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import rollup_blob, rollup_blob_dispute  # noqa: E402
from bench.common import local_node, write_results  # noqa: E402
from offchain.bls import SecretKey, g2_words, sign  # noqa: E402
from offchain.rollup import adversary  # noqa: E402
from offchain.rollup.builder import build_batch  # noqa: E402
from offchain.rollup.codec import encode_batch  # noqa: E402
from offchain.rollup.execute import Fault  # noqa: E402
from offchain.rollup.hashing import keccak  # noqa: E402
from offchain.rollup.honest_proposer import HonestProposer  # noqa: E402
from offchain.rollup.l1 import RollupL1, Signer  # noqa: E402
from offchain.rollup.signatures import aggregate_commitment  # noqa: E402
from offchain.rollup.state import L2State  # noqa: E402
from offchain.rollup.types import (  # noqa: E402
    Commitment,
    QueuedDeposit,
    SignedTransfer,
    Transfer,
)
from offchain.rollup.validator import Validator  # noqa: E402
from offchain.rollup.wallet import derive_key, sign_transfer, sign_withdraw  # noqa: E402

BATCH_SIZES = (1, 32, 256, 1024)
USERS = 32  # L2 accounts 0..31, each of its own L1 owner: a full commitment of distinct senders
BOND = 10**18
ACTIVATION_DELAY = 3
# Admission throughput: 4,096 transfers in groups of 256, senders taken round-robin from this many
# accounts. The headline (operator_tx_per_s) is the distinct case: every sender of a group is a
# different key (one Miller loop per tx); the repeat case has 4 txs per key in each group.
ADMISSION_TXS, ADMISSION_GROUP = 4096, 256
ADMISSION_DISTINCT_ACCOUNTS, ADMISSION_REPEAT_ACCOUNTS = 1000, 64


class Rotation:
    """Valid transfers among the funded accounts, with correct nonces and a small fee; 32 in a
    row come from 32 distinct senders (the worst case of the signature dispute)."""

    def __init__(self, keys: list[SecretKey], dst: bytes, state: L2State) -> None:
        self.keys, self.dst = keys, dst
        self.nonces = {i: state.account(i).nonce for i in range(len(keys))}
        self.k = 0

    def next(self, fee: int = 1000) -> SignedTransfer:
        i = self.k % len(self.keys)
        j = (i + 1 + self.k // len(self.keys)) % len(self.keys)
        if j == i:
            j = (i + 1) % len(self.keys)
        self.k += 1
        n = self.nonces[i]
        self.nonces[i] = n + 1
        return sign_transfer(self.keys[i], self.dst, i, j, 10**12, fee, n)

    def fork(self) -> Rotation:
        r = Rotation(self.keys, self.dst, L2State())
        r.nonces, r.k = dict(self.nonces), self.k
        return r


def _rpc(w3, method, params=None):
    return w3.provider.make_request(method, params or [])["result"]


def main() -> None:
    from ape import accounts, chain, project

    blob_only = "--blob" in sys.argv[1:]
    from eth_account import Account as EthAccount

    with local_node():
        w3 = chain.provider.web3
        test = accounts.test_accounts
        deployer = test[0]
        bridge = deployer.deploy(project.L1Bridge, b"\x01")
        registry = deployer.deploy(project.BLSKeyRegistry, ACTIVATION_DELAY)
        rollup = deployer.deploy(project.Rollup, bridge, BOND, 3600, 86_400, 30 * 86_400, registry)
        bridge.setRollup(rollup, sender=deployer)
        l1 = RollupL1(w3, rollup.address, bridge.address)
        dst = l1.signing_dst()
        signers = [Signer(w3, bytes(HexBytes(a.private_key))) for a in list(test)[:10]]
        ops_gas: dict[str, int] = {}
        for s in (signers[0], signers[9], signers[7]):
            ops_gas["bond"] = s.send(l1.rollup.functions.bond(), value=BOND)["gasUsed"]
        # 32 L2 users, each its own L1 owner with a BLS key derived from its wallet
        owners = [EthAccount.from_key(keccak(b"bench user %d" % u)) for u in range(USERS)]
        keys = [derive_key(o, int(w3.eth.chain_id), registry.address) for o in owners]
        for o, k in zip(owners, keys, strict=True):
            w3.eth.send_transaction({"from": deployer.address, "to": o.address, "value": 10**18})
            user = Signer(w3, o.key)
            reg = user.send(l1.registry.functions.register(g2_words(k.public_key().eip2537())))
            ops_gas["register_key"] = reg["gasUsed"]
            signers[1].send(
                l1.bridge.functions.depositETH(b"\x01" + bytes.fromhex(o.address[2:])),
                value=10**20,
            )
        _rpc(w3, "anvil_mine", [hex(ACTIVATION_DELAY + 1)])
        op = HonestProposer(l1, signers[0], fee_account=0)
        op.step([])
        rot = Rotation(keys, dst, op.state)

        # ---------------------------------------------------------------- posting
        posting = {}
        for n in BATCH_SIZES:
            batch, _ = op.step([rot.next() for _ in range(n)])
            assert not batch.rejected, batch.rejected
            receipt = _posting_receipt(w3, l1)
            tx = w3.eth.get_transaction(receipt["transactionHash"])
            posting[n] = {
                "transfers": n,
                "commitments": len(batch.commitments),
                "data_bytes": len(batch.data),
                "calldata_bytes": len(tx["input"]),
                "gas": receipt["gasUsed"],
                "bytes_per_transfer": len(tx["input"]) / n,
                "gas_per_transfer": receipt["gasUsed"] / n,
            }
        blob = rollup_blob.measure(op, rot)  # reverted: the chain is as before
        if blob_only:
            _update_blob(rollup_blob.section(blob, {}))
            return
        assert Validator(l1, signers[5]).check().fraud is None  # every aggregate verifies

        # ------------------------------------------ withdrawal and bond operations
        w = sign_withdraw(keys[0], dst, 0, 10**18, 0, rot.nonces[0])
        rot.nonces[0] += 1
        op.step([w])
        _rpc(w3, "evm_increaseTime", [3600])
        _rpc(w3, "evm_mine")
        claim = Validator(l1, signers[5]).check().withdrawals[-1]
        fin = signers[5].send(l1.rollup.functions.finalizeWithdrawal(claim.as_abi()))
        ops_gas["finalize_withdrawal"] = fin["gasUsed"]
        out_bond = signers[7].send(l1.rollup.functions.withdrawBond(BOND, signers[7].address))
        ops_gas["withdraw_bond"] = out_bond["gasUsed"]

        # ------------------------------------------------------ operator throughput
        builder_tps = _builder_rate(op.state, rot)

        # ------------------------------------------------- worst-case fraud proofs
        fraud = {}
        for name, make in _worst_cases(l1, op, rot, keys, dst, signers).items():
            snap = _rpc(w3, "evm_snapshot")
            expected, commitments = make()
            signers[9].send(l1.rollup.functions.postBatch(op.state.root, encode_batch(commitments)))
            result, receipt = Validator(l1, signers[5]).challenge()
            assert result.fraud is not None and result.fraud.fault == expected, (name, result)
            kind = "signature" if result.fraud.is_signature_fraud else "state"
            fraud[name] = {"fault": expected.name, "dispute": kind, "gas": receipt["gasUsed"]}
            opened = l1.rollup.events.BountyOpened().process_receipt(receipt, errors=DISCARD)
            _rpc(w3, "evm_increaseTime", [3600])  # the bounty's claim window
            _rpc(w3, "evm_mine")
            signers[5].send(l1.rollup.functions.settleBounty(opened[0]["args"]["id"]))
            reward = signers[5].send(l1.rollup.functions.claimReward(signers[5].address))
            ops_gas["claim_reward"] = reward["gasUsed"]
            _rpc(w3, "evm_revert", [snap])
        blob_dispute = rollup_blob_dispute.measure(l1, signers[9], signers[5])

    # admission needs no node: measured after Anvil has stopped, so it does not share the core
    admission = _admission_rate(ADMISSION_DISTINCT_ACCOUNTS)
    admission_repeat = _admission_rate(ADMISSION_REPEAT_ACCOUNTS)
    out = {
        "format_version": 2,
        "bytes_per_transfer": posting[1024]["bytes_per_transfer"],
        "l1_gas_per_transfer": posting[1024]["gas_per_transfer"],
        "fraud_proof_max_gas": max(v["gas"] for v in fraud.values()),
        "signature_dispute_max_gas": max(
            v["gas"] for v in fraud.values() if v["dispute"] == "signature"
        ),
        # signature checks (batched BLS, random coefficients) and state updates per second of
        # CPU, one core: the sequencer's admission path (bench/operator_admission.py), with
        # distinct senders in every admission group (the worst case: one Miller loop per tx)
        "operator_tx_per_s": admission["prepare_plus_admit_cpu_tx_per_s"],
        "operator_tx_per_s_wall": admission["prepare_plus_admit_one_core_tx_per_s"],
        "operator_tx_per_s_distribution": (
            f"distinct senders: {ADMISSION_GROUP} distinct keys per group of {ADMISSION_GROUP}"
        ),
        # the same with 4 txs per sender key in each group (64 accounts round-robin)
        "operator_tx_per_s_repeat_senders": admission_repeat["prepare_plus_admit_cpu_tx_per_s"],
        "operator_tx_per_s_repeat_senders_distribution": (
            f"{ADMISSION_GROUP // ADMISSION_REPEAT_ACCOUNTS} txs per key per group of "
            f"{ADMISSION_GROUP} ({ADMISSION_REPEAT_ACCOUNTS} keys)"
        ),
        "builder_tx_per_s": builder_tps,
        "load_avg": os.getloadavg()[0],
        "posting": {str(k): v for k, v in posting.items()},
        "operation_gas": {**ops_gas, "post_batch_1024": posting[1024]["gas"]},
        "fraud_proof_gas": fraud,
        "blob": rollup_blob.section(blob, fraud),
    }
    # the blob dispute (bench/rollup_blob_dispute.py); the blob posting figures sit beside it
    blob_figures = out["blob"]
    blob_figures["dispute_blob_gas"] = blob_dispute["dispute_blob_gas"]
    blob_figures["dispute_max_gas"] = max(
        out["fraud_proof_max_gas"], blob_dispute["dispute_blob_gas"]
    )
    _print(out)
    write_results("rollup", out)


def _update_blob(blob: dict) -> None:
    """`--blob`: replace the `blob` figures of bench/results/rollup.json, keep the others."""
    import json

    from bench.common import RESULTS

    path = RESULTS / "rollup.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    figures = {
        k: v for k, v in old.items() if k not in ("benchmark", "measured_at", "machine", "python")
    }
    # the blob dispute's figures (bench/rollup_blob_dispute.py) are kept as they were
    blob = {**(old.get("blob") or {}), **{k: v for k, v in blob.items() if v is not None}}
    figures["blob"] = blob
    sys.stdout.write("\n".join(rollup_blob.table(blob)) + "\n")
    write_results("rollup", figures)


def _builder_rate(state: L2State, rot: Rotation) -> float:
    """Batches of 1,024 built per second (execution, Merkle updates, 32 aggregates)."""
    r = rot.fork()
    txs = [r.next() for _ in range(1024)]
    t0 = time.process_time()
    build_batch(state.copy(), [], txs, fee_account=0)
    return len(txs) / (time.process_time() - t0)


def _admission_rate(n_accounts: int) -> dict:
    """The sequencer's admission (bench/operator_admission.py): 4,096 BLS-signed transfers in
    groups of 256, senders round-robin over `n_accounts` accounts."""
    import tempfile
    import threading

    from bench.operator_admission import BenchBackend, bodies
    from offchain.sequencer.core import Sequencer
    from offchain.sequencer.store import OperatorStore

    txs, accounts, book = bodies(ADMISSION_TXS, n_accounts)
    with tempfile.TemporaryDirectory() as tmp:
        store = OperatorStore(Path(tmp) / "bench.sqlite")
        seq = Sequencer(BenchBackend(store, accounts, book), threading.RLock(), 1.0)  # type: ignore[arg-type]
        seq.recovered()
        c0, t0 = time.process_time(), time.perf_counter()
        prepared = [seq.prepare(b) for b in txs]
        done = sum(
            isinstance(r, dict)
            for i in range(0, len(prepared), ADMISSION_GROUP)
            for r in seq.admit_many(prepared[i : i + ADMISSION_GROUP])
        )
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
        store.close()
    assert done == len(txs), f"only {done} admitted"
    return {
        "prepare_plus_admit_cpu_tx_per_s": len(txs) / cpu,
        "prepare_plus_admit_one_core_tx_per_s": len(txs) / wall,
    }


def _posting_receipt(w3, l1):
    logs = l1.rollup.events.BatchPosted.get_logs(from_block=w3.eth.block_number)
    return w3.eth.get_transaction_receipt(logs[-1]["transactionHash"])


def _worst_cases(l1, op, rot, keys, dst, signers):
    """Each dispute kind at its most expensive: a full commitment of 32 distinct senders, the
    fault (for the state dispute) at its last slot."""
    state = op.state

    def prefix(n):
        r = rot.fork()
        return [r.next() for _ in range(n)], r

    def last_bad(bad: SignedTransfer, expected: Fault):
        txs, _ = prefix(31)
        signed = [*txs, bad]
        c = Commitment(
            keccak(b"claimed"),
            state.deposit_end,
            state.forced_end,
            0,
            transfers=tuple(s.tx for s in signed),
            signature=aggregate_commitment(signed),
        )
        return expected, [c]

    def wrong_root():
        txs, _ = prefix(32)
        return Fault.WRONG_ROOT, adversary.wrong_root(state, txs)

    def overspend():
        _, r = prefix(31)
        big = sign_transfer(keys[31], dst, 31, 0, 10**30, 0, r.nonces[31])
        return last_bad(big, Fault.OVERSPEND)

    def nowhere():
        _, r = prefix(31)
        t = sign_transfer(keys[31], dst, 31, 5000, 1, 0, r.nonces[31])
        return last_bad(t, Fault.NO_ACCOUNT)

    def malformed():
        txs, _ = prefix(32)
        return Fault.MALFORMED, adversary.malformed(state, txs)

    def deposits_altered():
        start = state.deposit_end
        for u in range(1, 33):
            s = signers[1 + u % 8]
            owner = keccak(b"new %d" % u)[:20]
            s.send(l1.bridge.functions.depositETH(b"\x01" + owner), value=10**15 + u)
        queue = l1.deposit_queue()[start:]
        forged = [QueuedDeposit(d.index, d.token, d.amount + 1, d.owner) for d in queue]
        return Fault.WRONG_ROOT, adversary.misapply_deposits(state, queue, forged)

    def bad_aggregate():
        txs, _ = prefix(32)  # 32 distinct senders: 33 pairings on chain
        return Fault.BAD_SIGNATURE, adversary.bad_aggregate(state, txs, dst)

    def stolen():
        txs, r = prefix(31)
        victim = 31
        forged = sign_transfer(keys[0], dst, victim, 0, 10**12, 0, r.nonces[victim])
        cs = adversary._honest(state, [*txs, forged])
        return Fault.BAD_SIGNATURE, cs

    def undecodable():
        txs, _ = prefix(32)
        return Fault.BAD_SIGNATURE, adversary.undecodable_signature(state, txs)

    def no_key():
        # account 32: deposited to an owner that never registered a key
        signers[2].send(
            l1.bridge.functions.depositETH(b"\x01" + keccak(b"keyless")[:20]), value=10**18
        )
        queue = l1.deposit_queue()[state.deposit_end :]
        base = adversary._honest(state, [], deposits=queue)
        after = state.copy()
        from offchain.rollup.execute import commit, execute

        ex = execute(after, base[0], queue)
        commit(after, ex, base[0].deposit_end)
        txs, _ = prefix(31)
        keyless = Transfer(USERS, 0, 10**12, 0)
        forged = SignedTransfer(keyless, sign(SecretKey(7), b"x", dst).compressed)
        rest = adversary._honest(after, [*txs, forged])
        return Fault.NO_KEY, [*base, *rest]

    return {
        "wrong_root": wrong_root,
        "overspend": overspend,
        "no_account": nowhere,
        "malformed": malformed,
        "deposits_altered_or_reordered": deposits_altered,
        "bad_aggregate_32_signers": bad_aggregate,
        "stolen_transfer": stolen,
        "undecodable_signature": undecodable,
        "signer_without_key": no_key,
    }


def _print(out: dict) -> None:
    lines = ["", "l2kit rollup benchmark (Anvil, Osaka, solc 0.8.37 -O200)", ""]
    lines.append("| transfers | commitments | calldata B | B/transfer | post gas | gas/transfer |")
    lines.append("|---:|---:|---:|---:|---:|---:|")
    for v in out["posting"].values():
        lines.append(
            f"| {v['transfers']} | {v['commitments']} | {v['calldata_bytes']} | "
            f"{v['bytes_per_transfer']:.1f} | {v['gas']} | {v['gas_per_transfer']:.0f} |"
        )
    lines += ["", "| fraud kind (worst case: a full commitment) | dispute | fault | gas |"]
    lines.append("|---|---|---|---:|")
    for k, v in out["fraud_proof_gas"].items():
        lines.append(f"| {k} | {v['dispute']} | {v['fault']} | {v['gas']} |")
    lines += rollup_blob.table(out["blob"])
    lines += ["", "| operation | gas |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in out["operation_gas"].items()]
    lines += [
        "",
        f"fraud_proof_max_gas: {out['fraud_proof_max_gas']}",
        f"operator admission: {out['operator_tx_per_s']:.0f} BLS-signed transfers per CPU second "
        f"({out['operator_tx_per_s_wall']:.0f}/s wall clock at load {out['load_avg']:.1f}): "
        "batched signature check + ledger update; headline with "
        f"{out['operator_tx_per_s_distribution']}",
        f"  repeat senders ({out['operator_tx_per_s_repeat_senders_distribution']}): "
        f"{out['operator_tx_per_s_repeat_senders']:.0f} per CPU second",
        f"builder: {out['builder_tx_per_s']:.0f} transfers/s (execution, Merkle, aggregates)",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
