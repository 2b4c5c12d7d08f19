"""Open the operator store named by `--store`: a file path (SQLite) or a PostgreSQL URL."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from offchain.sequencer.store import OperatorStore, StoreError

if TYPE_CHECKING:
    from offchain.sequencer.store_pg import PostgresStore

Store: TypeAlias = "OperatorStore | PostgresStore"

_POSTGRES_SCHEMES = ("postgresql", "postgres")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


def store_kind(url_or_path: str | Path) -> str:
    """The kind of store: "postgres" for a postgresql:// or postgres:// URL, else "sqlite".

    Raises StoreError for any other URL scheme (rather than creating a file named like a URL).
    """
    text = str(url_or_path)
    match = _SCHEME.match(text)
    if match is None:
        return "sqlite"
    if match.group(1).lower() in _POSTGRES_SCHEMES:
        return "postgres"
    raise StoreError(
        f"the store {text!r} has the unknown scheme {match.group(1)}://: give a file path "
        "(SQLite) or postgresql://user@host:port/db (PostgreSQL)"
    )


def open_store(url_or_path: str | Path, *, leader: bool = False) -> Store:
    """The store at `url_or_path`: a path opens the SQLite `OperatorStore` (one process; `leader`
    changes nothing there), a postgresql:// URL the `PostgresStore` (several processes; with
    `leader`, the sequencer leader lock is taken as soon as the store is bound).
    """
    if store_kind(url_or_path) == "sqlite":
        return OperatorStore(url_or_path)
    try:
        importlib.import_module("psycopg")
    except ImportError as exc:
        raise StoreError(
            "the store is a PostgreSQL URL but psycopg is not installed: run `make setup` "
            "(or pip install 'psycopg[binary]'), or give a file path for an SQLite store"
        ) from exc
    from offchain.sequencer.store_pg import PostgresStore

    return PostgresStore(str(url_or_path), leader=leader)
