"""The `l2kit` command line: one command per thing a user does, grouped by system.

    l2kit rollup deposit|balance|transfer|withdraw|finalize|claim|force|exit|refund
    l2kit zk deposit|balance|transfer|withdraw
    l2kit operator bond|unbond|reward|status
    l2kit channels node|tower|open|fund|pay|invoice|route|close|list|delegate|status

Every error a user can cause ends as one line on stderr, ``l2kit: error: <what> ...: <what to
do>``, and a non-zero exit (1 for a refused action, 2 for a malformed command line); no
traceback unless ``L2KIT_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from offchain.errors import L2KitError

from .bonds import operator
from .channels import channels
from .rollup import rollup


class L2KitGroup(click.Group):
    """A group whose `main` turns every failure into one line and an exit code."""

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            rv = super().main(args, prog_name or "l2kit", complete_var, False, **extra)
            code = rv if isinstance(rv, int) else 0
        except click.UsageError as exc:
            hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
            code = _fail(exc.format_message() + hint, exc.exit_code)
        except click.ClickException as exc:
            code = _fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            code = _fail("aborted: nothing was sent", 1)
        except L2KitError as exc:
            code = _fail(str(exc), 1)
        except Exception as exc:  # the last resort: still one line, with a way to see more
            if os.environ.get("L2KIT_DEBUG"):
                raise
            code = _fail(
                f"unexpected {type(exc).__name__}: {exc} (re-run with L2KIT_DEBUG=1 for a "
                "traceback and report it)",
                1,
            )
        if standalone_mode:
            sys.exit(code)
        return code


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("l2kit-offchain")
    except PackageNotFoundError:  # run from the repository with PYTHONPATH, not installed
        return "source checkout (not installed: `make setup` installs it)"


def _fail(message: str, code: int) -> int:
    first = " ".join(message.split())  # one line, whatever the message carried
    click.echo(f"l2kit: error: {first}", err=True)
    return code


@click.group(cls=L2KitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=_version(), prog_name="l2kit")
def cli() -> None:
    """l2kit: deposit, transfer and withdraw on the l2kit rollups; bonds for operators.

    Options such as --network, --account and --yes go after the command, e.g.
    `l2kit rollup deposit 0.5 --account alice --yes`.
    """


cli.add_command(rollup)
cli.add_command(operator)
cli.add_command(channels)


def _add_zk() -> None:
    # offchain.zk is GPL-3.0 and optional: the group exists only when the zk extra is installed.
    # (checked without importing offchain.deploy, which would load Ape and slow every command)
    import importlib.util

    if all(importlib.util.find_spec(m) for m in ("groth16py", "light_poseidon_python")):
        from .zk import zk

        cli.add_command(zk)


_add_zk()


def main() -> None:
    cli.main()
