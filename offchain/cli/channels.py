"""`l2kit channels ...`: run a payment-channel node or watchtower, and drive a node's REST API.

`node` and `tower` run in the foreground (Ctrl-C stops them; state stays in their databases).
Every other command is a client of a running node's API (`--api`, default
http://127.0.0.1:8550): it checks its arguments, asks the node, and prints the answer. Amounts
are ETH as everywhere in the CLI (``0.5``, ``1.5gwei``, ``1000wei``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from offchain.channels.client import DEFAULT_API, ChannelInfo, ChannelNodeClient, NodeUnavailable
from offchain.errors import L2KitError

from .common import ETH, ETH_TOKEN, checked_address, parse_value
from .output import Output, render_table
from .session import Session, common_options


class ApiSession:
    """A client command's options: where the node's API is, --yes and --json."""

    def __init__(self, api: str, yes: bool, as_json: bool) -> None:
        self.client = ChannelNodeClient(api)
        self.yes = yes
        self.out = Output(as_json)

    def confirm(self, summary: str) -> None:
        if self.yes:
            return
        if not sys.stdin.isatty():
            raise L2KitError(
                f"{summary}: pass --yes to go ahead without confirmation (no terminal)"
            )
        if not click.confirm(f"{summary}. Go ahead?", default=False, err=True):
            raise click.Abort()


def api_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    @click.option(
        "--api",
        envvar="L2KIT_CHANNEL_API",
        default=DEFAULT_API,
        show_default=True,
        help="The channel node's REST API [env L2KIT_CHANNEL_API].",
    )
    @click.option("--yes", "-y", is_flag=True, help="Go ahead without asking (unattended use).")
    @click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
    @functools.wraps(fn)
    def wrapper(*args: Any, api: str, yes: bool, as_json: bool, **kwargs: Any) -> Any:
        return fn(ApiSession(api, yes, as_json), *args, **kwargs)

    return wrapper


def _endpoint(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise L2KitError(f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:9001)")
    return host, int(port)


def _show(c: ChannelInfo) -> dict[str, Any]:
    return {
        "channel": c.channel_id,
        "peer": c.peer,
        "role": c.role,
        "balance": ETH_TOKEN.show(c.balance),
        "peer_balance": ETH_TOKEN.show(c.peer_balance),
        "nonce": c.nonce,
        "locks": c.locks,
        "closed": c.closed,
    }


def _raw(c: ChannelInfo) -> dict[str, Any]:
    return {**c.__dict__, "balance": str(c.balance), "peer_balance": str(c.peer_balance)}


@click.group()
def channels() -> None:
    """Payment channels: run a node or a watchtower; open, pay, route and close through a node."""


# -------------------------------------------------------------------- services


@channels.command()
@click.option(
    "--db", type=click.Path(path_type=Path), required=True, help="The node's SQLite file."
)
@click.option("--port", type=int, default=0, help="TCP port for peers (fix it: peers remember it).")
@click.option("--api-port", type=int, default=8550, show_default=True, help="REST API port.")
@click.option("--api-host", default="127.0.0.1", show_default=True, help="REST API address.")
@click.option("--peer", "peers", multiple=True, help="A peer as ADDRESS@HOST:PORT (repeatable).")
@common_options
def node(
    s: Session, db: Path, port: int, api_port: int, api_host: str, peers: tuple[str, ...]
) -> None:
    """Run a channel node with its REST API in the foreground (Ctrl-C stops it)."""
    from offchain.channels.service import serve

    table: dict[str, list] = {}
    for p in peers:
        addr, sep, where = p.partition("@")
        if not sep:
            raise L2KitError(f"--peer {p!r} is not ADDRESS@HOST:PORT")
        table[checked_address(addr, "peer address")] = list(_endpoint(where))
    _ = s.w3  # the node answers, on the deployment's chain
    cfg = {
        "db": str(db),
        "rpc": s.rpc,
        "adjudicator": s.deployment.address("ChannelAdjudicator"),
        "port": port,
        "api_port": api_port,
        "api_host": api_host,
        "peers": table,
    }
    key = "0x" + bytes(s.account.key).hex()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(cfg, key))
    except OSError as exc:  # a port in use (another node?), or an address not on this machine
        raise L2KitError(
            f"the channel node cannot listen ({exc.strerror or exc}): is another node running on "
            f"port {port} or API port {api_port}? pick free ones with --port/--api-port"
        ) from None


@channels.command()
@click.option(
    "--db", type=click.Path(path_type=Path), required=True, help="The tower's SQLite file."
)
@click.option("--port", type=int, default=0, help="TCP port for its clients (0: any free).")
@common_options
def tower(s: Session, db: Path, port: int) -> None:
    """Run a watchtower in the foreground: it disputes stale closes of its clients' channels."""
    from offchain.chain import abi_of
    from offchain.channels.chain import ChainClient
    from offchain.channels.watchtower import Watchtower

    _ = s.w3
    key = "0x" + bytes(s.account.key).hex()
    chain = ChainClient(
        s.rpc, s.deployment.address("ChannelAdjudicator"), abi_of("ChannelAdjudicator"), key
    )

    async def run() -> None:
        t = Watchtower(key, db, chain)
        await t.start(port)
        print(f"watchtower {t.address} listening on 127.0.0.1:{t.port}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await t.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


# -------------------------------------------------------------------- reads


@channels.command()
@click.option(
    "--wait",
    type=click.FloatRange(0, 3600),
    default=0,
    help="Seconds to wait for the node to answer (scripts starting a node).",
)
@api_options
def status(a: ApiSession, wait: float) -> None:
    """The node's address, channels, pending locks, background errors and watchtower status."""
    if wait:
        a.out.wait("the channel node", lambda: _answers(a.client), timeout=wait, poll=0.3)
    st = a.client.status()
    tower = st.get("tower") or {}
    human = {
        "address": st["address"],
        "port": st["port"],
        "peers": st["peers"],
        "channels": st["channels"],
        "locks": st["locks"],
        "unsynced": st["unsynced"],
        "tower": "-" if tower.get("ok") is None else ("ok" if tower["ok"] else tower.get("error")),
        "errors": len(st["errors"]),
    }
    a.out.result(
        st,
        None
        if a.out.as_json
        else "\n".join(
            [f"{k.ljust(9)} {v}" for k, v in human.items()] + [f"  {e}" for e in st["errors"]]
        ),
    )


def _answers(client: ChannelNodeClient) -> bool:
    try:
        client.status()
    except NodeUnavailable:
        return False
    return True


@channels.command(name="list")
@click.option("--all", "show_all", is_flag=True, help="Include closed channels.")
@api_options
def list_(a: ApiSession, show_all: bool) -> None:
    """The node's channels and balances."""
    rows = [c for c in a.client.channels() if show_all or not c.closed]
    a.out.result({"channels": [_raw(c) for c in rows]}, render_table([_show(c) for c in rows]))


@channels.command()
@api_options
def peers(a: ApiSession) -> None:
    """The peers the node knows, and its open channel with each."""
    rows = a.client.peers()
    a.out.result({"peers": rows}, render_table(rows))


# -------------------------------------------------------------------- actions


@channels.command()
@click.argument("address")
@click.argument("endpoint", metavar="HOST:PORT")
@api_options
def connect(a: ApiSession, address: str, endpoint: str) -> None:
    """Tell the node where the peer ADDRESS listens (kept across restarts)."""
    host, port = _endpoint(endpoint)
    a.out.result(a.client.add_peer(checked_address(address, "peer address"), host, port))


@channels.command(name="open")
@click.argument("peer")
@click.argument("amount")
@api_options
def open_(a: ApiSession, peer: str, amount: str) -> None:
    """Open a channel with PEER, depositing AMOUNT of ETH on chain."""
    who, value = checked_address(peer, "peer address"), parse_value(ETH_TOKEN, amount)
    a.confirm(f"open a channel with {who} and deposit {ETH_TOKEN.show(value)} on chain")
    c = a.client.open(who, value)
    a.out.result(_raw(c), render_table([_show(c)]))


@channels.command()
@click.argument("channel")
@click.argument("amount")
@api_options
def fund(a: ApiSession, channel: str, amount: str) -> None:
    """Deposit AMOUNT of ETH into CHANNEL (an id, or the peer's address) as its B side."""
    value = parse_value(ETH_TOKEN, amount)
    a.confirm(f"deposit {ETH_TOKEN.show(value)} into the channel {channel} on chain")
    c = a.client.fund(channel, value)
    a.out.result(_raw(c), render_table([_show(c)]))


@channels.command()
@click.argument("peer")
@click.argument("amount")
@api_options
def pay(a: ApiSession, peer: str, amount: str) -> None:
    """Pay AMOUNT of ETH to PEER over your direct channel with it (off chain)."""
    who, value = checked_address(peer, "peer address"), parse_value(ETH_TOKEN, amount)
    a.confirm(f"pay {ETH_TOKEN.show(value)} to {who}")
    c = a.client.pay(who, value)
    a.out.result(_raw(c), render_table([_show(c)]))


@channels.command()
@click.argument("amount")
@api_options
def invoice(a: ApiSession, amount: str) -> None:
    """Ask this node (the payee) for an invoice of AMOUNT; prints it as one JSON line for
    `l2kit channels route` on the payer's node."""
    inv = a.client.invoice(parse_value(ETH_TOKEN, amount))
    click.echo(json.dumps(inv, indent=2 if a.out.as_json else None, separators=None))


def _read_invoice(text: str) -> dict[str, Any]:
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text()
        except OSError as exc:
            raise L2KitError(f"cannot read the invoice file {text[1:]}: {exc.strerror}") from None
    elif text == "-":
        text = sys.stdin.read()
    try:
        inv = json.loads(text)
    except ValueError:
        raise L2KitError(
            "the invoice is not JSON: pass what `l2kit channels invoice` printed (or @file)"
        ) from None
    if not isinstance(inv, dict) or not {"payee", "amount", "hashlock"} <= inv.keys():
        raise L2KitError("the invoice lacks payee, amount or hashlock: is it an l2kit invoice?")
    return inv


@channels.command()
@click.argument("invoice_text", metavar="INVOICE")
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds to settle.")
@api_options
def route(a: ApiSession, invoice_text: str, timeout: float) -> None:
    """Pay an INVOICE (JSON, @file or - for stdin) over one or more hops (off chain)."""
    inv = _read_invoice(invoice_text)
    try:
        shown = ETH_TOKEN.show(int(inv["amount"]))
    except (TypeError, ValueError):
        raise L2KitError(f"the invoice amount {inv['amount']!r} is not wei") from None
    a.confirm(f"pay {shown} to {inv['payee']} over the channel network")
    r = a.client.route(inv, timeout)
    hops = " -> ".join(r["hops"])
    a.out.result(r, f"paid {shown} to {r['payee']} via {hops}")


@channels.command()
@click.argument("channel")
@click.option("--force", is_flag=True, help="Close unilaterally, without asking the peer.")
@api_options
def close(a: ApiSession, channel: str, force: bool) -> None:
    """Close CHANNEL (an id, or the peer's address): cooperatively, else unilaterally (then
    `l2kit channels settle` after the challenge period). A cooperative close pays out at once."""
    a.confirm(f"close the channel {channel} on chain")
    r = a.client.close(channel, force)
    lines = [f"closed {r['channel_id']} ({r['mode']}); on chain: {r['status']}"]
    if r["mode"] == "cooperative":
        lines.append(f"claimed {ETH_TOKEN.show(int(r['claimed']))} to the node's account")
    else:
        lines.append(f"reason: {r['reason']}")
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(r["settle_after"]))
        lines.append(f"settle after {when}: `l2kit channels settle {r['channel_id']}`")
    a.out.result(r, "\n".join(lines))


@channels.command()
@click.argument("channel")
@api_options
def settle(a: ApiSession, channel: str) -> None:
    """After a unilateral close's challenge period: settle CHANNEL, unlock its locks, claim."""
    a.confirm(f"settle the channel {channel} on chain")
    r = a.client.settle(channel)
    a.out.result(r, f"{r['channel_id']}: {r['status']}")


@channels.command()
@api_options
def claim(a: ApiSession) -> None:
    """Withdraw what closed channels credited to the node's account (e.g. the peer's close)."""
    a.confirm("claim the node's closed-channel balance on chain")
    r = a.client.claim(ETH)
    a.out.result(r, f"claimed {ETH_TOKEN.show(int(r['claimed']))}")


@channels.command()
@click.argument("tower_address", metavar="TOWER")
@click.argument("endpoint", metavar="HOST:PORT")
@click.option("--days", type=float, default=30.0, show_default=True, help="How long it may act.")
@api_options
def delegate(a: ApiSession, tower_address: str, endpoint: str, days: float) -> None:
    """Hand the node's latest channel states to the watchtower TOWER (and every later one)."""
    tower_addr = checked_address(tower_address, "watchtower address")
    host, port = _endpoint(endpoint)
    if not 0 < days <= 3650:
        raise L2KitError(f"--days {days} must be between 0 and 3650")
    r = a.client.delegate(tower_addr, host, port, int(time.time() + days * 86400))
    a.out.result(r, f"delegated {r['pushed']} channel state(s) to {tower_addr}")
