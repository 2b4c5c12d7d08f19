"""Benchmark of forced inclusion, freeze and emergency exit: gas per operation on Anvil.

    python bench/forced.py        (env: SOLCX_BINARY_PATH, PATH, PYTHONPATH as for the tests)

Prints a table and writes bench/results/forced.json.
"""

from __future__ import annotations

import time

from hexbytes import HexBytes

from bench.common import local_node, print_table, write_results

BOND = 10**18
CHALLENGE = 100
DELAY = 300
LIVENESS = 100_000
USERS = 8


def main() -> None:
    with local_node():
        _run()


def _run() -> None:
    import dataclasses

    from ape import accounts, chain, project

    from offchain.rollup import adversary as adv
    from offchain.rollup.codec import encode_batch, encode_forced_tx
    from offchain.rollup.exit import exit_plan
    from offchain.rollup.honest_proposer import HonestProposer
    from offchain.rollup.l1 import RollupL1, Signer
    from offchain.rollup.types import QueuedForced, Transfer, Withdraw
    from offchain.rollup.validator import Validator

    w3 = chain.provider.web3
    test = accounts.test_accounts
    deployer = test[0]
    bridge = deployer.deploy(project.L1Bridge, b"\x01")
    registry = deployer.deploy(project.BLSKeyRegistry, 3)
    rollup = deployer.deploy(project.Rollup, bridge, BOND, CHALLENGE, DELAY, LIVENESS, registry)
    bridge.setRollup(rollup, sender=deployer)
    l1 = RollupL1(w3, rollup.address, bridge.address)
    signers = [Signer(w3, bytes(HexBytes(a.private_key))) for a in list(test)[:10]]
    r, b = l1.rollup.functions, l1.bridge.functions
    rows: list[tuple[str, int, str]] = []

    def gas(label: str, receipt, note: str = "") -> int:
        rows.append((label, int(receipt["gasUsed"]), note))
        return int(receipt["gasUsed"])

    def advance(seconds: int) -> None:
        w3.provider.make_request("evm_increaseTime", [seconds])
        w3.provider.make_request("evm_mine", [])

    for s in (signers[0], signers[9]):
        s.send(r.bond(), value=BOND)
    for u in range(1, USERS + 1):
        signers[u].send(b.depositETH(b"\x01" + bytes.fromhex(signers[u].address[2:])), value=10**18)
    op = HonestProposer(l1, signers[0])
    op.step([])  # accounts 0..7 owned by users 1..8

    # format v2: a forced tx is authenticated by its L1 sender (no signature, no nonce)
    t = encode_forced_tx(Transfer(0, 1, 10**15, 0))
    gas("forceTransaction (transfer, 13 B)", signers[1].send(r.forceTransaction(t)))
    wd = encode_forced_tx(Withdraw(1, 10**15, 0))
    gas("forceTransaction (withdraw, 10 B)", signers[2].send(r.forceTransaction(wd)))
    receipt = op.step([])[1]
    gas("postBatch, 2 forced slots", receipt, "1 commitment, 2 B of slots")

    def force_round(state, count: int) -> None:
        """Queue `count` valid forced transfers spread over the users (each by its owner)."""
        for n in range(count):
            i = n % USERS
            tx = encode_forced_tx(Transfer(i, (i + 1) % USERS, 10**12, 0))
            signers[i + 1].send(r.forceTransaction(tx))

    # 32 forced transfers in one commitment
    force_round(op.state, 32)
    batch, new_state = op.build([])
    applied = sum(1 for slot in batch.commitments[0].commitment.forced if slot.applied)
    gas("postBatch, 32 forced slots", op.post(batch, new_state), f"{applied} applied")

    # worst-case forced fraud proof: 32 forced transfers, wrong root
    force_round(new_state, 32)
    forced = l1.forced_queue()[new_state.forced_end :]
    entries = [QueuedForced(f.index, f.sender, f.data) for f in forced]
    cs = adv.misapply_forced(new_state, forced, entries)  # applied as queued, root then forged
    cs = [dataclasses.replace(c, post_root=b"\x13" * 32, posted_rest=None) for c in cs]
    signers[9].send(r.postBatch(new_state.root, encode_batch(cs)))
    result, receipt = Validator(l1, signers[8]).challenge()
    gas("proveFraud, 32 forced transfers (WRONG_ROOT)", receipt, result.fraud.fault.name)
    skipped = adv.skip_forced(new_state, forced[:32])
    signers[9].send(r.bond(), value=BOND)
    signers[9].send(r.postBatch(new_state.root, encode_batch(skipped)))
    result, receipt = Validator(l1, signers[8]).challenge()
    gas("proveFraud, forced range skipped", receipt, result.fraud.fault.name)

    # forced withdraw payout
    advance(CHALLENGE)
    claim = next(c for c in Validator(l1, signers[8]).check().withdrawals if c.forced_tx)
    gas(
        "finalizeWithdrawal (forced withdraw)",
        signers[2].send(r.finalizeWithdrawal(claim.as_abi())),
    )

    # deposit-inclusion request, then freeze (forced txs ignored)
    signers[3].send(b.depositETH(b"\x01" + bytes.fromhex(signers[3].address[2:])), value=10**17)
    gas("requestDepositInclusion", signers[5].send(r.requestDepositInclusion()))
    advance(DELAY + 1)
    gas("freeze", signers[5].send(r.freeze()), "reason FORCED_TX_EXPIRED")
    t0 = time.perf_counter()
    plans = [exit_plan(l1, signers[u].address) for u in range(1, USERS + 1)]
    plan_ms = (time.perf_counter() - t0) * 1000 / USERS
    exit_gas = [gas_of(signers[5].send(r.exitFrozen(*c.as_args()))) for p in plans for c in p.exits]
    rows.append(("exitFrozen (mean)", sum(exit_gas) // len(exit_gas), f"{len(exit_gas)} exits"))
    refunds = [c for p in plans for c in p.refunds]
    rows.append(
        ("refundDeposit", gas_of(signers[5].send(r.refundDeposit(*refunds[0].as_args()))), "")
    )
    print_table(
        "forced inclusion / freeze / exit: gas per operation", ["operation", "gas", "note"], rows
    )
    print(
        f"\nexit_plan from L1 data: {plan_ms:.0f} ms per owner ({USERS} users, "
        f"{len(l1.posted_batches())} batches)"
    )
    write_results(
        "forced",
        {
            "gas": {label: g for label, g, _ in rows},
            "exit_plan_ms_per_owner": round(plan_ms, 1),
        },
    )


def gas_of(receipt) -> int:
    return int(receipt["gasUsed"])


if __name__ == "__main__":
    main()
