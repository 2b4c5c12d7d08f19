"""The like-for-like scenarios, run on l2kit's adjudicator and on Raiden's TokenNetwork.

Both use the same ERC-20 (one TestToken instance), fresh participants per run and direct
payouts counted (l2kit's `claim`s are added if a payout was deferred to a pull balance). Each
figure is the sum of the scenario's transactions' gas (incl. the 21,000 base each); approvals and
minting are set-up and not counted. Two storage regimes:

* cold: the participants hold no tokens outside the channel (each deposits all it has), so every
  payout writes a zero balance slot (20,000-gas SSTOREs), as a first channel between new users;
* warm: the participants keep one token outside the channel, so payouts update non-zero slots.

Before measuring, each contract gets one channel of its own (`warm_up`), so neither pays for being
the first user of its contract or token balance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.contract import Contract
from web3.logs import DISCARD

from bench.sidebyside.evm import Node
from bench.sidebyside.raiden import (
    BALANCE_PROOF,
    BALANCE_PROOF_UPDATE,
    Raiden,
    balance_hash,
    pack_locks,
    secret_hash,
)
from offchain.channels import crypto, merkle
from offchain.channels.model import Lock, State

E = 10**18
DEP_A, DEP_B = 10 * E, 5 * E
FINAL_A, FINAL_B = 6 * E, 9 * E
PERIOD = 500
LOCK_AMOUNT = E // 100
EMPTY_LOCKSROOT = keccak(b"")
EXTRA = keccak(text="additional hash")
LOCK_COUNTS = (1, 8, 32)


@dataclass
class Run:
    """Gas of one scenario run, step by step."""

    steps: list[tuple[str, int]] = field(default_factory=list)

    def add(self, name: str, rcpt: dict) -> dict:
        self.steps.append((name, int(rcpt["gasUsed"])))
        return rcpt

    @property
    def total(self) -> int:
        return sum(g for _, g in self.steps)


@dataclass
class Bench:
    node: Node
    deployer: LocalAccount
    token: Contract
    adj: Contract
    raiden: Raiden
    runs: int = 0

    def pair(self, mode: str, need_a: int, need_b: int, spender: str) -> tuple:
        """Two fresh participants holding exactly what they deposit (+1 token each if warm),
        both having approved `spender`."""
        self.runs += 1
        extra = E if mode == "warm" else 0
        accts = []
        for who, need in (("a", need_a), ("b", need_b)):
            acct = self.node.fresh_account(f"{self.runs}-{who}")
            if need + extra:
                self.node.send(self.deployer, self.token.functions.mint(acct.address, need + extra))
            self.node.send(acct, self.token.functions.approve(spender, 2**256 - 1))
            accts.append(acct)
        return accts[0], accts[1]

    # ------------------------------------------------------------ l2kit

    def _l2_open(self, run: Run, a: LocalAccount, b: LocalAccount, fund: bool) -> bytes:
        f = self.adj.functions
        rcpt = run.add(
            "open + deposit",
            self.node.send(a, f.open(b.address, self.token.address, PERIOD, DEP_A)),
        )
        ev = self.adj.events.ChannelOpened().process_receipt(rcpt, errors=DISCARD)[0]
        cid = bytes(ev["args"]["channelId"])
        if fund:
            run.add("peer deposit (fund)", self.node.send(b, f.fund(cid, DEP_B)))
        return cid

    def _l2_claims(self, run: Run, *accts: LocalAccount) -> None:
        for acct in accts:
            if self.adj.functions.claimable(self.token.address, acct.address).call():
                run.add("claim", self.node.send(acct, self.adj.functions.claim(self.token.address)))

    def _domain(self) -> crypto.Domain:
        return crypto.Domain(self.node.chain_id, self.adj.address)

    def l2kit_cooperative(self, mode: str) -> Run:
        run = Run()
        a, b = self.pair(mode, DEP_A, DEP_B, self.adj.address)
        cid = self._l2_open(run, a, b, True)
        d = crypto.coop_digest(self._domain(), cid, 9, FINAL_A, FINAL_B)
        sa, sb = crypto.Signer(a.key), crypto.Signer(b.key)
        fn = self.adj.functions.cooperativeClose((cid, 9, FINAL_A, FINAL_B), sa.sign(d), sb.sign(d))
        run.add("cooperative close", self.node.send(a, fn))
        self._l2_claims(run, a, b)
        return run

    def _cosign(self, a: LocalAccount, b: LocalAccount, s: State) -> tuple:
        d = crypto.state_digest(self._domain(), s)
        return s.as_tuple(), crypto.Signer(a.key).sign(d), crypto.Signer(b.key).sign(d)

    def l2kit_dispute(self, mode: str) -> Run:
        run = Run()
        a, b = self.pair(mode, DEP_A, DEP_B, self.adj.address)
        cid = self._l2_open(run, a, b, True)
        old, new = State(cid, 3, 7 * E, 8 * E), State(cid, 4, FINAL_A, FINAL_B)
        f = self.adj.functions
        run.add("close", self.node.send(a, f.close(*self._cosign(a, b, old))))
        run.add("dispute", self.node.send(b, f.dispute(*self._cosign(a, b, new))))
        self.node.warp(PERIOD + 1)
        run.add("settle", self.node.send(a, f.settle(cid)))
        self._l2_claims(run, a, b)
        return run

    def l2kit_unlock(self, mode: str, n: int) -> Run:
        run = Run()
        a, b = self.pair(mode, DEP_A, 0, self.adj.address)
        cid = self._l2_open(run, a, b, False)
        expiry = self.node.now() + 10 * PERIOD
        secrets = [keccak(text=f"l2kit-{self.runs}-{i}") for i in range(n)]
        locks = sorted(
            (Lock(0, LOCK_AMOUNT, keccak(x), expiry) for x in secrets), key=lambda x: x.leaf()
        )
        s = State(cid, 1, DEP_A - n * LOCK_AMOUNT, 0, tuple(locks))
        f = self.adj.functions
        run.add("close", self.node.send(b, f.close(*self._cosign(a, b, s))))
        for x in secrets:
            run.add("register secret", self.node.send(b, f.registerSecret(x)))
        self.node.warp(PERIOD + 1)
        run.add("settle", self.node.send(a, f.settle(cid)))
        ls = [(x.sender, x.amount, x.hashlock, x.expiry) for x in locks]
        assert merkle.root([x.leaf() for x in locks]) == s.locks_root
        run.add("unlock", self.node.send(b, f.unlockAll(cid, ls)))
        self._l2_claims(run, a, b)
        return run

    # ------------------------------------------------------------ Raiden

    def _rd_open(self, run: Run, a: LocalAccount, b: LocalAccount, fund: bool) -> int:
        tn = self.raiden.network
        fn = tn.functions.openChannelWithDeposit(a.address, b.address, DEP_A)
        rcpt = run.add("openChannelWithDeposit", self.node.send(a, fn))
        ev = tn.events.ChannelOpened().process_receipt(rcpt, errors=DISCARD)[0]
        cid = int(ev["args"]["channel_identifier"])
        if fund:
            fn = tn.functions.setTotalDeposit(cid, b.address, DEP_B, a.address)
            run.add("setTotalDeposit (peer)", self.node.send(b, fn))
        return cid

    def raiden_cooperative(self, mode: str) -> Run:
        run = Run()
        r = self.raiden
        a, b = self.pair(mode, DEP_A, DEP_B, r.network.address)
        cid = self._rd_open(run, a, b, True)
        until = self.node.now() + 1000
        wa = (a.address, FINAL_A, until)
        wb = (b.address, FINAL_B, until)
        da = (*wa, r.withdraw_sig(a, cid, *wa), r.withdraw_sig(b, cid, *wa))
        db = (*wb, r.withdraw_sig(b, cid, *wb), r.withdraw_sig(a, cid, *wb))
        fn = r.network.functions.cooperativeSettle(cid, da, db)
        run.add("cooperativeSettle", self.node.send(a, fn))
        return run

    def raiden_dispute(self, mode: str) -> Run:
        run = Run()
        r = self.raiden
        a, b = self.pair(mode, DEP_A, DEP_B, r.network.address)
        cid = self._rd_open(run, a, b, True)
        tn = r.network.functions
        # A closes with B's balance proof (B sent A 1 token) ...
        bh_b = balance_hash(E, 0, EMPTY_LOCKSROOT)
        sig_b = r.balance_proof(b, cid, bh_b, 1, EXTRA)
        counter_a = r.counter_sign(a, BALANCE_PROOF, cid, bh_b, 1, EXTRA, sig_b)
        fn = tn.closeChannel(cid, b.address, a.address, bh_b, 1, EXTRA, sig_b, counter_a)
        run.add("closeChannel", self.node.send(a, fn))
        # ... and B answers with A's balance proof (A sent B 5 tokens).
        bh_a = balance_hash(5 * E, 0, EMPTY_LOCKSROOT)
        sig_a = r.balance_proof(a, cid, bh_a, 2, EXTRA)
        counter_b = r.counter_sign(b, BALANCE_PROOF_UPDATE, cid, bh_a, 2, EXTRA, sig_a)
        fn = tn.updateNonClosingBalanceProof(
            cid, a.address, b.address, bh_a, 2, EXTRA, sig_a, counter_b
        )
        run.add("updateNonClosingBalanceProof", self.node.send(b, fn))
        self.node.warp(PERIOD + 1)
        fn = tn.settleChannel(
            cid, b.address, E, 0, EMPTY_LOCKSROOT, a.address, 5 * E, 0, EMPTY_LOCKSROOT
        )
        run.add("settleChannel", self.node.send(a, fn))
        return run

    def raiden_unlock(self, mode: str, n: int) -> Run:
        run = Run()
        r = self.raiden
        a, b = self.pair(mode, DEP_A, 0, r.network.address)
        cid = self._rd_open(run, a, b, False)
        until = self.node.now() + 10 * PERIOD
        secrets = [keccak(text=f"raiden-{self.runs}-{i}") for i in range(n)]
        packed = pack_locks([(until, LOCK_AMOUNT, secret_hash(x)) for x in secrets])
        root = keccak(packed)
        locked = n * LOCK_AMOUNT
        bh_a = balance_hash(0, locked, root)
        sig_a = r.balance_proof(a, cid, bh_a, 1, EXTRA)
        counter_b = r.counter_sign(b, BALANCE_PROOF, cid, bh_a, 1, EXTRA, sig_a)
        tn = r.network.functions
        fn = tn.closeChannel(cid, a.address, b.address, bh_a, 1, EXTRA, sig_a, counter_b)
        run.add("closeChannel", self.node.send(b, fn))
        for x in secrets:
            run.add("registerSecret", self.node.send(b, r.secrets.functions.registerSecret(x)))
        self.node.warp(PERIOD + 1)
        fn = tn.settleChannel(cid, b.address, 0, 0, EMPTY_LOCKSROOT, a.address, 0, locked, root)
        run.add("settleChannel", self.node.send(a, fn))
        run.add("unlock", self.node.send(b, tn.unlock(cid, b.address, a.address, packed)))
        return run


def step(run: Run, name: str) -> int:
    return next(g for s, g in run.steps if s == name)


def warm_up(bench: Bench) -> None:
    """One channel left open on each system first, so neither pays for being the first user of
    its contract (its channel counter and its token balance are already non-zero)."""
    r = bench.raiden
    a, b = bench.pair("cold", DEP_A, 0, r.network.address)
    bench.node.send(a, r.network.functions.openChannelWithDeposit(a.address, b.address, DEP_A))
    a, b = bench.pair("cold", DEP_A, 0, bench.adj.address)
    bench.node.send(a, bench.adj.functions.open(b.address, bench.token.address, PERIOD, DEP_A))


def compare(bench: Bench) -> dict:
    """Every scenario on both systems, cold and warm; returns the JSON-ready figures."""
    out: dict = {"rows": [], "steps": {}}
    warm_up(bench)

    def row(label: str, regime: str, l2: int, rd: int) -> None:
        out["rows"].append(
            {"scenario": label, "storage": regime, "l2kit": l2, "raiden": rd, "ratio": l2 / rd}
        )

    for mode in ("cold", "warm"):
        for key, label, l2f, rdf in (
            ("cooperative", "(a) whole channel, cooperative", bench.l2kit_cooperative,
             bench.raiden_cooperative),
            ("dispute", "(b) whole channel, close + dispute + settle", bench.l2kit_dispute,
             bench.raiden_dispute),
        ):  # fmt: skip
            l2, rd = l2f(mode), rdf(mode)
            row(label, mode, l2.total, rd.total)
            out["steps"][f"{key} {mode}"] = {"l2kit": l2.steps, "raiden": rd.steps}
        unlocks = {}
        for n in LOCK_COUNTS:
            l2, rd = bench.l2kit_unlock(mode, n), bench.raiden_unlock(mode, n)
            unlocks[n] = (step(l2, "unlock"), step(rd, "unlock"))
            row(f"(c) unlock {n} lock{'s' if n > 1 else ''}", mode, *unlocks[n])
        lo, hi = LOCK_COUNTS[0], LOCK_COUNTS[-1]
        per = [(unlocks[hi][i] - unlocks[lo][i]) / (hi - lo) for i in (0, 1)]
        row("(c) unlock, per extra lock", mode, round(per[0]), round(per[1]))
    return out
