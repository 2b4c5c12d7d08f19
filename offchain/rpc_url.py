"""RPC URLs without their secrets: what may be written to a deployment file or a log.

Public providers put the API key in the URL: in the userinfo (``https://user:key@host``), in the
query (``?apikey=...``), or as a path segment (Infura ``/v3/<key>``, Alchemy ``/v2/<key>``). None
of it may leave the machine in a file meant to be committed.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "0.0.0.0")

# A path segment that looks like a credential: 20+ characters of a key alphabet with at least one
# digit (Infura's 32 hex digits, Alchemy's 32 base64url characters), e.g. not "v3" or "mainnet".
_KEY_SEGMENT = re.compile(r"^(?=.*[0-9])[A-Za-z0-9_\-]{20,}$")


def is_local_rpc(url: str) -> bool:
    """Whether `url` points at this machine (a development node, no credentials to protect)."""
    return (urlsplit(url).hostname or "") in LOCAL_HOSTS


def redact_rpc(url: str) -> str:
    """`url` without userinfo, query, fragment or key-like path segments."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    segments = [s for s in parts.path.split("/") if not _KEY_SEGMENT.match(s)]
    return urlunsplit((parts.scheme, netloc, "/".join(segments), "", ""))


def rpc_for_deployment_file(url: str) -> str:
    """What a deployment file records: a local node's URL (redacted), nothing for any other."""
    return redact_rpc(url) if is_local_rpc(url) else ""
