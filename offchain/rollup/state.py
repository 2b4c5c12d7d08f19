"""L2 state: account tree, leaves and queue positions; changed only by `commit`."""

from __future__ import annotations

from dataclasses import dataclass, field

from .merkle import SparseMerkleTree
from .types import EMPTY_ACCOUNT, Account


@dataclass
class L2State:
    """The L2 state after some number of commitments. Mutated only through `commit` (the edge)."""

    tree: SparseMerkleTree = field(default_factory=SparseMerkleTree)
    accounts: dict[int, Account] = field(default_factory=dict)
    deposit_end: int = 0
    forced_end: int = 0

    @property
    def root(self) -> bytes:
        return self.tree.root

    def account(self, index: int) -> Account:
        return self.accounts.get(index, EMPTY_ACCOUNT)

    def next_free_index(self) -> int:
        """The lowest never-used account index (honest operators assign new accounts in order)."""
        return len(self.accounts)

    def find_account(self, owner: str, token: str) -> int | None:
        owner, token = owner.lower(), token.lower()
        for i, acc in self.accounts.items():
            if acc.owner == owner and acc.token == token:
                return i
        return None

    def total_balance(self, token: str) -> int:
        token = token.lower()
        return sum(a.balance for a in self.accounts.values() if a.token == token)

    def copy(self) -> L2State:
        """A deep copy (tests and the dishonest proposer use it to fork the state)."""
        tree = SparseMerkleTree(self.tree.depth)
        tree._nodes = dict(self.tree._nodes)
        return L2State(
            tree=tree,
            accounts=dict(self.accounts),
            deposit_end=self.deposit_end,
            forced_end=self.forced_end,
        )
