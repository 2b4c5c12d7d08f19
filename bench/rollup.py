"""Rollup benchmark on Anvil: L1 bytes and gas per transfer, batch posting gas, worst-case
fraud-proof gas per fraud kind, operator throughput. Prints a table and writes
bench/results/rollup.json. Run: `python bench/rollup.py` (project env: docs/rollup.md)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from hexbytes import HexBytes
from web3.logs import DISCARD

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import local_node, write_results  # noqa: E402
from offchain.rollup.builder import build_batch  # noqa: E402
from offchain.rollup.codec import encode_batch, encode_tx, encode_txs  # noqa: E402
from offchain.rollup.execute import Fault, execute  # noqa: E402
from offchain.rollup.hashing import keccak  # noqa: E402
from offchain.rollup.honest_proposer import HonestProposer  # noqa: E402
from offchain.rollup.l1 import RollupL1, Signer  # noqa: E402
from offchain.rollup.state import L2State  # noqa: E402
from offchain.rollup.types import Commitment, DepositTx, QueuedDeposit  # noqa: E402
from offchain.rollup.validator import Validator  # noqa: E402
from offchain.rollup.wallet import sign_transfer, sign_withdraw  # noqa: E402

BATCH_SIZES = (1, 32, 256, 1024)
USERS = 8  # L2 accounts 0..7 owned by test accounts 1..8
BOND = 10**18


class Rotation:
    """Valid transfers among the funded accounts, with correct nonces and a small fee."""

    def __init__(self, keys: list[bytes], separator: bytes, state: L2State) -> None:
        self.keys, self.sep = keys, separator
        self.nonces = {i: state.account(i).nonce for i in range(len(keys))}
        self.k = 0

    def next(self, fee: int = 1000):
        i = self.k % len(self.keys)
        j = (i + 1) % len(self.keys)
        self.k += 1
        n = self.nonces[i]
        self.nonces[i] = n + 1
        return sign_transfer(self.keys[i], self.sep, i, j, 10**12, fee, n)


def _rpc(w3, method, params=None):
    return w3.provider.make_request(method, params or [])["result"]


def main() -> None:
    from ape import accounts, chain, project

    with local_node():
        w3 = chain.provider.web3
        test = accounts.test_accounts
        deployer = test[0]
        bridge = deployer.deploy(project.L1Bridge, b"\x01")
        registry = deployer.deploy(project.BLSKeyRegistry, 3)
        rollup = deployer.deploy(project.Rollup, bridge, BOND, 3600, 86_400, 30 * 86_400, registry)
        bridge.setRollup(rollup, sender=deployer)
        l1 = RollupL1(w3, rollup.address, bridge.address)
        sep = l1.separator()
        signers = [Signer(w3, bytes(HexBytes(a.private_key))) for a in list(test)[:10]]
        keys = [s.private_key for s in signers[1 : USERS + 1]]
        ops_gas: dict[str, int] = {}
        for s in (signers[0], signers[9], signers[7]):
            ops_gas["bond"] = s.send(l1.rollup.functions.bond(), value=BOND)["gasUsed"]
        for u in range(1, USERS + 1):
            addr = bytes.fromhex(signers[u].address[2:])
            signers[u].send(l1.bridge.functions.depositETH(b"\x01" + addr), value=10**20)
        op = HonestProposer(l1, signers[0], fee_account=0)
        op.step([])
        rot = Rotation(keys, sep, op.state)

        # ---------------------------------------------------------------- posting
        posting = {}
        for n in BATCH_SIZES:
            batch, _ = op.step([rot.next() for _ in range(n)])
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

        # ------------------------------------------ withdrawal and bond operations
        w = sign_withdraw(keys[0], sep, 0, 10**18, 0, rot.nonces[0])
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
        state = op.state.copy()
        throughput_rot = Rotation(keys, sep, state)
        txs = [throughput_rot.next() for _ in range(1024)]
        t0 = time.perf_counter()
        build_batch(state, [], txs, sep, fee_account=0)
        operator_tps = len(txs) / (time.perf_counter() - t0)

        # ------------------------------------------------- worst-case fraud proofs
        fraud = {}
        for name, make in _worst_cases(l1, op, rot, keys, sep, signers).items():
            snap = _rpc(w3, "evm_snapshot")
            expected, commitments = make()
            signers[9].send(l1.rollup.functions.postBatch(op.state.root, encode_batch(commitments)))
            result, receipt = Validator(l1, signers[5]).challenge()
            assert result.fraud is not None and result.fraud.fault == expected, (name, result)
            fraud[name] = {"fault": expected.name, "gas": receipt["gasUsed"]}
            opened = l1.rollup.events.BountyOpened().process_receipt(receipt, errors=DISCARD)
            _rpc(w3, "evm_increaseTime", [3600])  # the bounty's claim window
            _rpc(w3, "evm_mine")
            signers[5].send(l1.rollup.functions.settleBounty(opened[0]["args"]["id"]))
            reward = signers[5].send(l1.rollup.functions.claimReward(signers[5].address))
            ops_gas["claim_reward"] = reward["gasUsed"]
            _rpc(w3, "evm_revert", [snap])

    out = {
        "bytes_per_transfer": posting[1024]["bytes_per_transfer"],
        "l1_gas_per_transfer": posting[1024]["gas_per_transfer"],
        "fraud_proof_max_gas": max(v["gas"] for v in fraud.values()),
        "operator_tx_per_s": operator_tps,
        "posting": {str(k): v for k, v in posting.items()},
        "operation_gas": {**ops_gas, "post_batch_1024": posting[1024]["gas"]},
        "fraud_proof_gas": fraud,
    }
    _print(out)
    write_results("rollup", out)


def _posting_receipt(w3, l1):
    logs = l1.rollup.events.BatchPosted.get_logs(from_block=w3.eth.block_number)
    return w3.eth.get_transaction_receipt(logs[-1]["transactionHash"])


def _worst_cases(l1, op, rot, keys, sep, signers):
    """Each fraud kind at its most expensive: the fault shows only after a full commitment."""
    state = op.state

    def prefix(n):
        r = Rotation(keys, sep, state)
        r.k = rot.k
        txs = [r.next() for _ in range(n)]
        return txs, r

    def with_bad(bad_tx_bytes, expected, n=31):
        txs, _ = prefix(n)
        data = encode_txs(txs) + bad_tx_bytes
        return expected, [Commitment(keccak(b"claimed"), state.deposit_end, 0, data)]

    def wrong_root():
        txs, _ = prefix(32)
        return Fault.WRONG_ROOT, [Commitment(keccak(b"x"), state.deposit_end, 0, encode_txs(txs))]

    def bad_sig():
        txs, r = prefix(31)
        forged = sign_transfer(keys[1], sep, 0, 1, 1, 0, r.nonces[0])
        return Fault.BAD_SIGNATURE, [
            Commitment(keccak(b"x"), state.deposit_end, 0, encode_txs([*txs, forged]))
        ]

    def replay():
        txs, _ = prefix(31)
        return Fault.BAD_SIGNATURE, [
            Commitment(keccak(b"x"), state.deposit_end, 0, encode_txs([*txs, txs[0]]))
        ]

    def overspend():
        txs, r = prefix(31)
        big = sign_transfer(keys[2], sep, 2, 3, 10**30, 0, r.nonces[2])
        return Fault.OVERSPEND, [
            Commitment(keccak(b"x"), state.deposit_end, 0, encode_txs([*txs, big]))
        ]

    def nowhere():
        txs, r = prefix(31)
        t = sign_transfer(keys[2], sep, 2, 5000, 1, 0, r.nonces[2])
        return Fault.NO_ACCOUNT, [
            Commitment(keccak(b"x"), state.deposit_end, 0, encode_txs([*txs, t]))
        ]

    def skipped():
        signers[1].send(
            l1.bridge.functions.depositETH(b"\x01" + bytes.fromhex(signers[1].address[2:])),
            value=10**18,
        )
        txs, _ = prefix(32)
        batch, _ = build_batch(state, [], txs, sep, fee_account=0)
        c = batch.commitments[0].commitment
        return Fault.DEPOSIT_MISMATCH, [
            Commitment(c.post_root, state.deposit_end + 1, 0, c.tx_data)
        ]

    def deposits_altered():
        start = state.deposit_end
        for u in range(1, 33):
            s = signers[1 + u % 8]
            owner = keccak(b"new %d" % u)[:20]
            s.send(l1.bridge.functions.depositETH(b"\x01" + owner), value=10**15 + u)
        queue = l1.deposit_queue()[start:]
        forged = [QueuedDeposit(d.index, d.token, d.amount + 1, d.owner) for d in queue]
        data = encode_txs([DepositTx(100 + k) for k in range(32)])
        ex = execute(state, data, 0, forged, sep)
        return Fault.WRONG_ROOT, [Commitment(ex.root, start + 32, 0, data)]

    def malformed():
        return with_bad(b"\x07\x00\x00\x00", Fault.MALFORMED, n=31)

    def truncated():
        return with_bad(encode_tx(rot.next())[:60], Fault.MALFORMED, n=31)

    return {
        "wrong_root": wrong_root,
        "bad_signature": bad_sig,
        "wrong_nonce": replay,
        "overspend": overspend,
        "no_account": nowhere,
        "deposit_skipped": skipped,
        "deposits_altered_or_reordered": deposits_altered,
        "malformed": malformed,
        "truncated": truncated,
    }


def _print(out: dict) -> None:
    lines = ["", "l2kit rollup benchmark (Anvil, Prague, solc 0.8.37 -O200)", ""]
    lines.append("| transfers | commitments | calldata B | B/transfer | post gas | gas/transfer |")
    lines.append("|---:|---:|---:|---:|---:|---:|")
    for v in out["posting"].values():
        lines.append(
            f"| {v['transfers']} | {v['commitments']} | {v['calldata_bytes']} | "
            f"{v['bytes_per_transfer']:.1f} | {v['gas']} | {v['gas_per_transfer']:.0f} |"
        )
    lines += ["", "| fraud kind (worst case: fault after a full commitment) | fault | gas |"]
    lines.append("|---|---|---:|")
    for k, v in out["fraud_proof_gas"].items():
        lines.append(f"| {k} | {v['fault']} | {v['gas']} |")
    lines += ["", "| operation | gas |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in out["operation_gas"].items()]
    lines += [
        "",
        f"fraud_proof_max_gas: {out['fraud_proof_max_gas']}",
        f"operator throughput: {out['operator_tx_per_s']:.0f} signed transfers/s "
        "(signature recovery + two Merkle updates each, one core)",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
