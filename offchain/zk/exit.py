# SPDX-License-Identifier: GPL-3.0-or-later
"""Emergency exit from a frozen rollup, and the authorisation of a forced withdrawal: the
witness of circuits/exit.circom. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from offchain.zk.babyjub import PrivateKey, Signature, verify
from offchain.zk.poseidon import poseidon
from offchain.zk.state import L2State

EXIT_TAG = 3
"""The message type of an exit signature (0..2 are transaction types)."""


def exit_message(domain: int, leaf_index: int, recipient: int, balance: int, nonce: int) -> int:
    """Poseidon(domain, 3, leaf, recipient, balance, nonce): what a key signs to exit."""
    return poseidon([domain, EXIT_TAG, leaf_index, recipient, balance, nonce])


@dataclass(frozen=True)
class ExitClaim:
    """The witness and public inputs of one exit proof."""

    leaf_index: int
    token: int
    balance: int
    recipient: int
    inputs: dict[str, Any]

    @property
    def public_inputs(self) -> tuple[int, ...]:
        return tuple(
            self.inputs[k] for k in ("root", "domain", "leafToken", "balance", "recipient")
        )


def sign_exit(
    key: PrivateKey, state: L2State, domain: int, leaf_index: int, recipient: int
) -> Signature:
    """The owner's signature of an exit of leaf `leaf_index` to L1 `recipient`."""
    acct = state.account(leaf_index)
    return key.sign(exit_message(domain, leaf_index, recipient, acct.balance, acct.nonce))


def build_exit(
    state: L2State,
    domain: int,
    leaf_index: int,
    recipient: int,
    signature: Signature,
    *,
    allow_empty: bool = False,
) -> ExitClaim:
    """Exit of leaf `leaf_index` from `state` (the last proven state) to `recipient`.

    The same claim, for any state the rollup accepted, authorises a forced withdrawal of the leaf
    (`ZkRollup.requestForcedWithdrawal`); pass `allow_empty` there, since what a forced
    withdrawal pays is the balance when it is processed, not the one in this state."""
    if not 0 < recipient < 1 << 160:
        raise ValueError(f"recipient {recipient:#x} is not a non-zero 20-byte address")
    if leaf_index not in state.accounts:
        raise ValueError(f"no account at leaf {leaf_index} in this state")
    acct = state.account(leaf_index)
    if acct.balance == 0 and not allow_empty:
        raise ValueError(f"leaf {leaf_index} has nothing to exit")
    msg = exit_message(domain, leaf_index, recipient, acct.balance, acct.nonce)
    if not verify(acct.pubkey, msg, signature):
        raise ValueError(f"the exit signature is not by leaf {leaf_index}'s key")
    inputs: dict[str, Any] = {
        "root": state.root,
        "domain": domain,
        "leafToken": (leaf_index << 160) | acct.token,
        "balance": acct.balance,
        "recipient": recipient,
        "ax": acct.ax,
        "ay": acct.ay,
        "nonce": acct.nonce,
        "siblings": list(state.tree.siblings(leaf_index)),
        "sigR8x": signature.r8[0],
        "sigR8y": signature.r8[1],
        "sigS": signature.s,
    }
    return ExitClaim(leaf_index, acct.token, acct.balance, recipient, inputs)
