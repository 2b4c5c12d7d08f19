"""What the CLI prints: human tables by default, one JSON document with ``--json``; waits show a
countdown on a terminal (a line every few seconds otherwise). Everything but results goes to
stderr, so ``--json`` output can be piped."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import click

from offchain.errors import CliError


class WaitTimedOut(CliError):
    """A wait ran out of time; the message says what is still missing."""


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def render_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Rows of dicts as aligned columns under a header (columns: the first row's keys)."""
    if not rows:
        return "(none)"
    cols = list(columns or rows[0].keys())
    cells = [[_cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def render_fields(fields: dict[str, Any]) -> str:
    """Key/value pairs, one per line, keys aligned."""
    width = max((len(k) for k in fields), default=0)
    return "\n".join(f"{k.ljust(width)}  {_cell(v)}" for k, v in fields.items())


class Output:
    """Results to stdout (table or JSON), notes and progress to stderr."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def result(self, data: dict[str, Any], human: str | None = None) -> None:
        if self.as_json:
            click.echo(json.dumps(data, indent=2, default=str))
        else:
            click.echo(human if human is not None else render_fields(data))

    def note(self, message: str) -> None:
        click.echo(message, err=True)

    def wait(
        self,
        what: str,
        done: Callable[[], bool],
        remaining: Callable[[], float | None] = lambda: None,
        timeout: float = 600.0,
        poll: float = 1.0,
    ) -> None:
        """Poll `done` until true, showing `what` and the seconds `remaining` (when known)."""
        tty = sys.stderr.isatty()
        deadline = time.monotonic() + timeout
        last_line = 0.0
        while not done():
            if time.monotonic() > deadline:
                if tty:
                    click.echo("", err=True)
                raise WaitTimedOut(
                    f"gave up waiting for {what} after {timeout:.0f} s: run the command again "
                    "later (nothing was sent)"
                )
            left = remaining()
            status = f"waiting for {what}" + (
                f": {_duration(left)} left" if left is not None and left > 0 else " ..."
            )
            if tty:
                click.echo("\r" + status.ljust(72), err=True, nl=False)
            elif time.monotonic() - last_line >= 10:
                click.echo(status, err=True)
                last_line = time.monotonic()
            time.sleep(poll)
        if tty:
            click.echo("\r" + f"{what}: done".ljust(72), err=True)


def _duration(seconds: float) -> str:
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s}s"
