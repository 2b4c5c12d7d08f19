"""`l2kit operator ...`: a proposer's bond and a challenger's rewards on the optimistic rollup.

Every contract call of this group is in the `_call_*` / `_read` helpers below. Bonds are per
batch: each posting locks `requiredBond` of the proposer's free bond until that batch is final
(or rolled back); only the free bond can be withdrawn. Rewards come from fraud bounties, credited
by `settleBounty` after their claim window.
"""

from __future__ import annotations

from typing import Any

import click
from web3.contract import Contract

from offchain.errors import L2KitError
from offchain.sequencer.client import BatcherUnavailable

from .common import ETH_TOKEN, checked_address
from .output import render_fields
from .session import Session, common_options
from .units import parse_amount


def _rollup(s: Session) -> Contract:
    return s.contract("Rollup")


def _read(s: Session, who: str) -> dict[str, Any]:
    """The operator-side state of `who` on the rollup."""
    r = _rollup(s).functions
    return {
        "address": who,
        "bond": r.bondOf(who).call(),
        "bond_locked": r.lockedBondOf(who).call(),
        "required_bond": r.requiredBond().call(),
        "reward": r.rewardOf(who).call(),
        "batches_total": r.batchCount().call(),
    }


def _call_bond(s: Session, amount: int) -> tuple[Any, int]:
    return _rollup(s).functions.bond(), amount


def _call_unbond(s: Session, amount: int, to: str) -> tuple[Any, int]:
    return _rollup(s).functions.withdrawBond(amount, to), 0


def _call_release(s: Session) -> tuple[Any, int]:
    """Move the bonds of final batches (up to the contract's bound) back to the free bond."""
    return _rollup(s).functions.releaseBonds(32), 0


#: Newest postings of the proposer scanned for bonds left in dead slots.
MAX_SLOT_SCAN = 64


def _dead_slots(s: Session, who: str) -> list[int]:
    """Slots whose latest posting is `who`'s, that are no longer live (rolled back, or discarded
    by a freeze) and no longer disputable, and still hold a bond: `releaseBonds` (final batches
    only) never reaches them, `releaseBond(i)` does. Bounded to the newest MAX_SLOT_SCAN."""
    r = _rollup(s)
    count = r.functions.batchCount().call()
    latest: dict[int, str] = {}
    for log in r.events.BatchPosted.get_logs(from_block=0):
        latest[int(log["args"]["index"])] = log["args"]["proposer"]
    mine = sorted((i for i, p in latest.items() if i >= count and p == who), reverse=True)
    return [
        i
        for i in mine[:MAX_SLOT_SCAN]
        if r.functions.batchBond(i).call() and not r.functions.isDisputable(i).call()
    ]


def _call_reward(s: Session, to: str) -> tuple[Any, int]:
    return _rollup(s).functions.claimReward(to), 0


@click.group()
def operator() -> None:
    """Proposer bonds and challenger rewards of the optimistic rollup."""


@operator.command()
@click.argument("amount", required=False)
@common_options
def bond(s: Session, amount: str | None) -> None:
    """Add AMOUNT of ETH to your free proposer bond (default: what is missing to one batch's
    bond; each posting locks that much until its batch is final)."""
    state = _read(s, s.address)
    value = (
        parse_amount(amount)
        if amount is not None
        else max(state["required_bond"] - state["bond"], 0)
    )
    if value <= 0:
        raise L2KitError(
            f"your bond {ETH_TOKEN.show(state['bond'])} already covers the required "
            f"{ETH_TOKEN.show(state['required_bond'])}: pass an AMOUNT to add more"
        )
    held = s.w3.eth.get_balance(s.address)
    if held < value:
        raise L2KitError(
            f"insufficient balance: {s.address} has {ETH_TOKEN.show(held)}, the bond needs "
            f"{ETH_TOKEN.show(value)} plus gas"
        )
    s.confirm(f"bond {ETH_TOKEN.show(value)} from {s.address}")
    call, wei = _call_bond(s, value)
    s.send(call, wei, "bond")
    _show(s, _read(s, s.address))


@operator.command()
@click.argument("amount")
@click.option("--to", "to", default=None, help="L1 address paid (default: yourself).")
@common_options
def unbond(s: Session, amount: str, to: str | None) -> None:
    """Withdraw AMOUNT (or `all`) of your free bond: the bond of batches still in their
    challenge window stays locked; that of final batches is released first."""
    state = _read(s, s.address)
    wanted = None if amount == "all" else parse_amount(amount)
    if state["bond_locked"] and (wanted is None or wanted > state["bond"]):
        # Final batches' bonds may not be released yet (postBatch releases a few at a time), and
        # those of rolled-back or freeze-discarded batches only by slot.
        s.send(*_call_release(s), "releaseBonds")
        for i in _dead_slots(s, s.address):
            s.send(_rollup(s).functions.releaseBond(i), 0, f"releaseBond({i})")
        state = _read(s, s.address)
    value = state["bond"] if wanted is None else wanted
    if value <= 0 or value > state["bond"]:
        locked = state["bond_locked"]
        if locked:
            raise L2KitError(
                f"cannot unbond {ETH_TOKEN.show(value)}: your free bond is "
                f"{ETH_TOKEN.show(state['bond'])} and {ETH_TOKEN.show(locked)} is locked in "
                "batches still in their challenge window: wait until they are final"
            )
        raise L2KitError(
            f"cannot unbond {ETH_TOKEN.show(value)}: your bond is {ETH_TOKEN.show(state['bond'])}"
        )
    dest = checked_address(to, "destination") if to else s.address
    call, wei = _call_unbond(s, value, dest)
    s.send(call, wei, "withdrawBond")
    _show(s, _read(s, s.address))


@operator.command()
@click.option("--to", "to", default=None, help="L1 address paid (default: yourself).")
@common_options
def reward(s: Session, to: str | None) -> None:
    """Claim your challenger rewards (from proven fraud)."""
    state = _read(s, s.address)
    if state["reward"] == 0:
        raise L2KitError(f"no challenger reward for {s.address}: nothing to claim")
    dest = checked_address(to, "destination") if to else s.address
    call, wei = _call_reward(s, dest)
    s.send(call, wei, "claimReward")
    _show(s, _read(s, s.address))


@operator.command()
@click.argument("address", required=False)
@common_options
def status(s: Session, address: str | None) -> None:
    """Bond, rewards and lock of ADDRESS (default: your key's), and the batcher's status."""
    who = checked_address(address) if address else s.address
    state = _read(s, who)
    try:
        state["batcher"] = s.batcher.status()
    except BatcherUnavailable as exc:
        state["batcher"] = None
        s.out.note(f"note: {exc}")
    _show(s, state)


def _show(s: Session, state: dict[str, Any]) -> None:
    wei = ("bond", "bond_locked", "required_bond", "reward")  # decimal strings, as everywhere
    data = {k: (str(v) if k in wei else v) for k, v in state.items()}
    human = {
        "address": state["address"],
        "bond": ETH_TOKEN.show(state["bond"]),
        "required bond": ETH_TOKEN.show(state["required_bond"]),
        "bond locked in disputable batches": ETH_TOKEN.show(state["bond_locked"]),
        "challenger reward": ETH_TOKEN.show(state["reward"]),
        "batches on L1": state["batches_total"],
    }
    if state.get("batcher"):
        b = state["batcher"]
        human["batcher"] = (
            f"{b.get('proposer')} frozen={b.get('frozen')} posted={b.get('batches_posted')}"
        )
        da = b.get("da")
        if isinstance(da, dict):  # optimistic batchers since issue 12
            human["batcher data availability"] = (
                f"--da {da.get('setting')}; last posting: {da.get('last_mode') or 'none yet'}"
                + (f" ({da['last_reason']})" if da.get("last_reason") else "")
            )
    s.out.result(data, render_fields(human))
