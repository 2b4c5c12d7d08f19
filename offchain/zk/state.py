# SPDX-License-Identifier: GPL-3.0-or-later
"""The L2 state of the zk rollup: accounts in a Poseidon tree, and its JSON persistence."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from offchain.zk.babyjub import Point
from offchain.zk.field import SNARK_FIELD
from offchain.zk.poseidon import poseidon
from offchain.zk.tree import PoseidonTree


@dataclass(frozen=True)
class Account:
    """One leaf: Poseidon(Ax, Ay, token, balance, nonce). `token` is the L1 token address as an
    int (0 for ETH); one leaf holds one token."""

    ax: int
    ay: int
    token: int
    balance: int
    nonce: int

    @property
    def pubkey(self) -> Point:
        return (self.ax, self.ay)

    def leaf(self) -> int:
        return poseidon(
            [self.ax, self.ay, self.token, self.balance % SNARK_FIELD, self.nonce % SNARK_FIELD]
        )


@dataclass(frozen=True)
class L2State:
    """Accounts by leaf index, the tree over them, and the rollup's L1 progress."""

    tree: PoseidonTree
    accounts: Mapping[int, Account] = field(default_factory=lambda: MappingProxyType({}))
    deposits_done: int = 0
    batches_done: int = 0
    forced_done: int = 0

    @staticmethod
    def empty(depth: int) -> L2State:
        return L2State(PoseidonTree(depth))

    @property
    def root(self) -> int:
        return self.tree.root

    def account(self, index: int) -> Account:
        acct = self.accounts.get(index)
        if acct is None:
            raise KeyError(f"no account at leaf {index}")
        return acct

    def find(self, pubkey: Point, token: int) -> int | None:
        """The leaf of (key, token), if there is one."""
        for idx, acct in self.accounts.items():
            if acct.pubkey == pubkey and acct.token == token:
                return idx
        return None

    def free_index(self) -> int:
        """The lowest empty leaf; raises when the tree is full."""
        for idx in range(self.tree.capacity):
            if idx not in self.accounts:
                return idx
        raise OverflowError(f"the account tree is full ({self.tree.capacity} leaves)")

    def with_account(self, index: int, acct: Account) -> L2State:
        accounts = dict(self.accounts)
        accounts[index] = acct
        return replace(
            self,
            tree=self.tree.with_leaf(index, acct.leaf()),
            accounts=MappingProxyType(accounts),
        )

    # ------------------------------------------------------------ persistence

    def to_json(self) -> str:
        return json.dumps(
            {
                "depth": self.tree.depth,
                "deposits_done": self.deposits_done,
                "batches_done": self.batches_done,
                "forced_done": self.forced_done,
                "root": hex(self.root),
                "accounts": {
                    str(i): [hex(a.ax), hex(a.ay), hex(a.token), str(a.balance), a.nonce]
                    for i, a in sorted(self.accounts.items())
                },
            },
            indent=1,
        )

    @staticmethod
    def from_json(text: str) -> L2State:
        data = json.loads(text)
        state = L2State.empty(int(data["depth"]))
        for i, (ax, ay, token, bal, nonce) in data["accounts"].items():
            state = state.with_account(
                int(i), Account(int(ax, 16), int(ay, 16), int(token, 16), int(bal), int(nonce))
            )
        state = replace(
            state,
            deposits_done=int(data["deposits_done"]),
            batches_done=int(data["batches_done"]),
            # Files written before the forced queue existed had processed none.
            forced_done=int(data.get("forced_done", 0)),
        )
        if hex(state.root) != data["root"]:
            raise ValueError("saved state is corrupt: its accounts do not give its saved root")
        return state

    def save(self, path: Path) -> None:
        """Write atomically (temp file + rename), so a crash never leaves half a file."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.to_json())
        os.replace(tmp, path)

    @staticmethod
    def load(path: Path) -> L2State:
        return L2State.from_json(path.read_text())
