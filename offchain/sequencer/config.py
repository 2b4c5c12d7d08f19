"""Every setting of the sequencer service, from flags, the environment and a TOML file.

Precedence: command-line flag > environment variable `L2KIT_<NAME>` > config file
(`--config file.toml`, or `$L2KIT_CONFIG`; keys are the setting names, a flat table) > default.
A bad value or an unknown key fails with one `ConfigError` line naming the setting and where it
came from (`--port`, `$L2KIT_PORT`, `file.toml: port`); nothing is half-applied. docs/operator.md
("Configuration") lists every setting; `settings_table()` prints that table.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from offchain.errors import SequencerError

ENV_PREFIX = "L2KIT_"


class ConfigError(SequencerError):
    """A setting could not be used; the message is one line naming the setting and source."""


def _s(help_text: str, *, choices: tuple[str, ...] = (), low: float | None = None) -> Any:
    return {"help": help_text, "choices": choices, "low": low}


@dataclass(frozen=True)
class SequencerConfig:
    """The service's settings; `sources` says where each came from (flag, env, file, default)."""

    rpc: str | None = field(default=None, metadata=_s("L1 JSON-RPC URL (else the deployment's)"))
    beacon_url: str | None = field(
        default=None,
        metadata=_s(
            "beacon API or blob archiver that blob batches are read from "
            "at recovery (default: the L1 RPC URL, as on Anvil)"
        ),
    )
    network: str = field(default="ethereum:local", metadata=_s("deployment, e.g. ethereum:sepolia"))
    mode: str = field(
        default="optimistic", metadata=_s("which rollup to operate", choices=("optimistic", "zk"))
    )
    zk_depth: int = field(default=4, metadata=_s("zk mode: account tree depth", low=1))
    zk_state: Path | None = field(default=None, metadata=_s("zk mode: the L2 state file"))
    store: str | None = field(
        default=None,
        metadata=_s("SQLite file or postgresql:// URL (default var/<network>/batcher.sqlite)"),
    )
    host: str = field(default="127.0.0.1", metadata=_s("API listen address"))
    port: int = field(default=8547, metadata=_s("API port (0 = any free port)", low=0))
    max_batch_txs: int = field(default=256, metadata=_s("post once this many txs wait", low=1))
    max_batch_delay: float = field(
        default=5.0, metadata=_s("...or once the oldest waited this long (s)", low=0)
    )
    poll_interval: float = field(default=0.25, metadata=_s("posting loop period (s)", low=0.01))
    heartbeat: float | None = field(
        default=None, metadata=_s("empty batch after this long idle (s; 0 = off)", low=0)
    )
    bond: int | None = field(default=None, metadata=_s("bond to hold in the rollup (wei)", low=0))
    fee_account: int = field(default=0, metadata=_s("L2 account receiving fees", low=0))
    da: str = field(
        default="auto",
        metadata=_s(
            "optimistic mode: batch data in calldata, blobs, or the cheaper per posting (auto)",
            choices=("calldata", "blobs", "auto"),
        ),
    )
    blob_max_batches: int = field(
        default=32, metadata=_s("optimistic mode: most batches per blob posting (1..32)", low=1)
    )
    cell_proofs: bool | None = field(
        default=None,
        metadata=_s("blob wrapper: Osaka cell proofs (true), Prague (false); unset: ask the node"),
    )
    progress_every: float = field(
        default=10.0, metadata=_s("seconds between progress log lines (0 = off)", low=0)
    )
    account: str | None = field(
        default=None,
        metadata=_s(
            "proposer key: Ape account alias (passphrase $APE_ACCOUNTS_<alias>_PASSPHRASE)"
        ),
    )
    keyfile: Path | None = field(
        default=None, metadata=_s("proposer key: v3 keystore file ($L2KIT_KEYFILE_PASSPHRASE)")
    )
    keyfile_passphrase_file: Path | None = field(
        default=None, metadata=_s("file holding the keystore's passphrase")
    )
    key_env: str = field(
        default="L2KIT_PROPOSER_KEY",
        metadata=_s("proposer key: environment variable with the raw hex key"),
    )
    log_format: str = field(
        default="text", metadata=_s("log lines as text or JSON", choices=("text", "json"))
    )
    log_level: str = field(
        default="info",
        metadata=_s("lowest level logged", choices=("debug", "info", "warning", "error")),
    )
    http_max_body: int = field(default=1 << 20, metadata=_s("largest request body (bytes)", low=64))
    http_timeout: float = field(
        default=10.0, metadata=_s("idle or stalled connection timeout (s)", low=0.1)
    )
    http_request_deadline: float = field(
        default=15.0, metadata=_s("a whole request must arrive within (s)", low=0.1)
    )
    http_max_connections: int = field(default=512, metadata=_s("connections served at once", low=1))
    http_max_batch_txs: int = field(
        default=1024, metadata=_s("transactions in one POST /txs", low=1)
    )
    intake_max_queue: int = field(
        default=20_000, metadata=_s("transactions waiting for admission (then 503 busy)", low=1)
    )
    intake_max_group: int = field(default=2048, metadata=_s("transactions per group commit", low=1))
    intake_linger_ms: float = field(
        default=0.0, metadata=_s("wait for a group to fill (ms; 0 = no wait)", low=0)
    )
    prepare_workers: int = field(
        default=0, metadata=_s("signature-check threads (0 = one per core)", low=0)
    )
    metrics: bool = field(default=True, metadata=_s("serve GET /metrics"))
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)


SETTINGS = tuple(f for f in dataclasses.fields(SequencerConfig) if f.name != "sources")
_BY_NAME = {f.name: f for f in SETTINGS}


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def _kind(f: dataclasses.Field[Any]) -> tuple[type, bool]:
    """(base type, optional) of a setting."""
    t = str(f.type)
    optional = "None" in t
    for name, base in (("bool", bool), ("int", int), ("float", float), ("Path", Path)):
        if t.startswith(name):
            return base, optional
    return str, optional


def _convert(f: dataclasses.Field[Any], raw: Any, where: str, typed: bool = False) -> Any:
    """A setting's value from a flag/env string or (`typed`) a TOML value, checked; or
    ConfigError."""
    base, optional = _kind(f)
    meta = f.metadata
    from_text = isinstance(raw, str)

    def bad(why: str) -> NoReturn:
        raise ConfigError(f"setting {f.name!r} from {where}: {why}")

    if typed and from_text and base not in (str, Path):
        bad(f"{raw!r} is a string: write the {base.__name__} without quotes")

    if optional and from_text and raw.strip().lower() in ("", "none"):
        return None
    value: Any
    if base is bool:
        if isinstance(raw, bool):
            value = raw
        elif from_text and raw.strip().lower() in ("1", "true", "yes", "on"):
            value = True
        elif from_text and raw.strip().lower() in ("0", "false", "no", "off"):
            value = False
        else:
            bad(f"{raw!r} is not a boolean (true/false)")
    elif base is int:
        if isinstance(raw, bool):
            bad(f"{raw!r} is not an integer")
        if from_text:
            try:
                value = int(raw.strip().replace("_", ""), 0)
            except ValueError:
                bad(f"{raw!r} is not an integer")
        elif isinstance(raw, int):
            value = raw
        else:
            bad(f"{raw!r} is not an integer")
    elif base is float:
        if isinstance(raw, bool):
            bad(f"{raw!r} is not a number")
        try:
            value = float(raw)
        except (TypeError, ValueError):
            bad(f"{raw!r} is not a number")
        if value != value or value in (float("inf"), float("-inf")):
            bad(f"{raw!r} is not a finite number")
    else:
        if not isinstance(raw, str):
            bad(f"{raw!r} is not a string")
        value = Path(raw).expanduser() if base is Path else raw
    if meta["choices"] and value not in meta["choices"]:
        bad(f"{value!r} is not one of {', '.join(meta['choices'])}")
    if meta["low"] is not None and value < meta["low"]:
        bad(f"{value!r} is below the minimum {meta['low']:g}")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"command line: {message} (see --help)")


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="sequencer",
        description="l2kit sequencer: every setting also from $L2KIT_<NAME> or --config FILE",
        argument_default=argparse.SUPPRESS,
    )
    p.add_argument("--config", help="TOML config file (default $L2KIT_CONFIG)")
    for f in SETTINGS:
        meta = f.metadata
        help_text = f"{meta['help']} [${env_name(f.name)}; default {f.default!r}]"
        if _kind(f)[0] is bool:
            p.add_argument(flag_name(f.name), action=argparse.BooleanOptionalAction, help=help_text)
        else:
            p.add_argument(flag_name(f.name), metavar=f.name.upper(), help=help_text)
    return p


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot read it ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: not valid TOML ({exc})") from None
    for key in data:
        if key not in _BY_NAME:
            hint = _closest(key.replace("-", "_"))
            raise ConfigError(
                f"config file {path}: unknown setting {key!r}"
                + (f" (did you mean {hint!r}?)" if hint else "")
            )
    return data


def _closest(name: str) -> str | None:
    import difflib

    found = difflib.get_close_matches(name, list(_BY_NAME), n=1)
    return found[0] if found else None


def load_config(
    argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None
) -> SequencerConfig:
    """Resolve every setting (flags > env > file > defaults); raises ConfigError (one line)."""
    env = os.environ if env is None else env
    args = vars(parser().parse_args(list(argv) if argv is not None else None))
    config_path = args.pop("config", None) or env.get(ENV_PREFIX + "CONFIG")
    from_file = _read_file(Path(config_path)) if config_path else {}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for f in SETTINGS:
        if f.name in args:
            where = flag_name(f.name)
            raw = args[f.name]
            values[f.name] = raw if isinstance(raw, bool) else _convert(f, raw, where)
        elif env_name(f.name) in env:
            where = "$" + env_name(f.name)
            values[f.name] = _convert(f, env[env_name(f.name)], where)
        elif f.name in from_file:
            where = f"{config_path}: {f.name}"
            values[f.name] = _convert(f, from_file[f.name], where, typed=True)
        else:
            where = "default"
        sources[f.name] = where
    return SequencerConfig(**values, sources=sources)


def settings_table() -> str:
    """The Markdown table of docs/operator.md's "Configuration" section."""
    rows = [
        "| setting (file key) | flag | environment | default | meaning |",
        "|---|---|---|---|---|",
    ]
    for f in SETTINGS:
        meta = f.metadata
        default = "" if f.default is None else f"`{f.default}`"
        meaning = meta["help"].replace("|", "\\|")
        if meta["choices"]:
            meaning += f" ({' / '.join(meta['choices'])})"
        rows.append(
            f"| `{f.name}` | `{flag_name(f.name)}` | `{env_name(f.name)}` | {default} | {meaning} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":  # python -m offchain.sequencer.config: print the settings table
    print(settings_table())
