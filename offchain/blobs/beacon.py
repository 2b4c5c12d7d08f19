"""Read blobs back from a beacon API, trusting only the versioned hashes (docs/blobs.md, "Reading").

The reader asks ``GET {url}/eth/v1/beacon/blobs/{block_id}?versioned_hashes=0x..,0x..`` (the Fulu
``getBlobs`` endpoint, which Anvil 1.7 serves on its RPC port) and, if the node predates it, the
older ``GET {url}/eth/v1/beacon/blob_sidecars/{block_id}``. Whatever comes back, it recomputes the
KZG commitment and versioned hash of every served blob and keeps only blobs whose hash is one it
was asked for; commitments, proofs, indices and any other field the endpoint sends are ignored.
It returns every requested blob, in the requested order, or raises: there is no partial answer.

``block_id`` is what the endpoint names blocks by: a slot or a beacon block root on a real beacon
node (the beacon root of execution block n is block n + 1's ``parentBeaconBlockRoot``, EIP-4788),
the execution block number or hash on Anvil. :func:`beacon_block_id` picks it from the execution
headers, so the same reader works against both.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import kzg
from .encoding import BYTES_PER_BLOB
from .errors import BeaconUnavailable, BlobMismatch, BlobMissing, KzgError

BLOBS_PATH = "/eth/v1/beacon/blobs/"
SIDECARS_PATH = "/eth/v1/beacon/blob_sidecars/"
# A beacon node must keep blobs for MIN_EPOCHS_FOR_BLOB_SIDECARS_REQUESTS = 4096 epochs
# (4096 * 32 slots * 12 s = 18.2 days); most prune right after.
RETENTION_EPOCHS = 4096
RETENTION_DAYS = RETENTION_EPOCHS * 32 * 12 / 86_400
PRUNING_HINT = (
    f"beacon nodes prune blobs after {RETENTION_EPOCHS} epochs (about {RETENTION_DAYS:.0f} days): "
    "a validator must keep up with the chain, and older batches must be read from a blob "
    "archiver (point the beacon URL setting at one)"
)


ZERO_ROOT = bytes(32)


class BeaconBlockNotYet(BeaconUnavailable):
    """The beacon block of an execution block is named only once the next block is mined."""


def beacon_block_id(
    block: int, own_parent_root: bytes, child_parent_root: bytes | None
) -> str | int:
    """The ``block_id`` under which a beacon API serves the blobs of execution block ``block``.

    ``own_parent_root`` is the block's own ``parentBeaconBlockRoot``; ``child_parent_root`` is
    block ``block + 1``'s, or None when that block does not exist yet. A chain with a consensus
    layer fills these roots: the blobs are then asked for by block ``block``'s beacon root, which
    block ``block + 1`` records (EIP-4788). A development node that leaves every root zero (Anvil)
    serves by execution block number, so the number is the id there.
    """
    if child_parent_root is not None and bytes(child_parent_root) != ZERO_ROOT:
        return "0x" + bytes(child_parent_root).hex()
    if child_parent_root is None and bytes(own_parent_root) != ZERO_ROOT:
        raise BeaconBlockNotYet(
            f"execution block {block} is the head: its beacon block root is recorded only by "
            f"block {block + 1} (EIP-4788); the blobs are read once that block is mined"
        )
    return block


@dataclass(frozen=True)
class BeaconSettings:
    """Where the reader fetches blobs from."""

    url: str
    """Base URL of the beacon API (an Anvil RPC URL works: Anvil serves the API on its port)."""
    timeout: float = 10.0
    """Seconds to wait for one HTTP answer before the endpoint counts as down."""
    max_response_bytes: int = 64 * 1024 * 1024
    """Largest answer read (a block's blobs in hex are about 262 kB each); more is refused."""


class BeaconReader:
    """Fetch blobs by versioned hash from one beacon endpoint and check each one."""

    def __init__(self, settings: BeaconSettings) -> None:
        self.settings = settings

    def blobs(self, block_id: int | str, versioned_hashes: Sequence[bytes]) -> list[bytes]:
        """The blobs of ``block_id`` with these versioned hashes, in this order, all checked.

        Raises :class:`BeaconUnavailable` (down or not speaking the API), :class:`BlobMissing`
        (a requested blob is not served) or :class:`BlobMismatch` (served bytes that are not a
        requested blob). Nothing is returned unless every requested blob was found and checked.
        """
        wanted = [bytes(h) for h in versioned_hashes]
        served = self._fetch(block_id, wanted)
        found: dict[bytes, bytes] = {}
        strangers: list[str] = []
        for n, blob in enumerate(served):
            vh = _checked_hash(blob)
            if vh is not None and vh in wanted:
                found[vh] = blob
            else:
                strangers.append(f"blob {n} ({'malformed' if vh is None else '0x' + vh.hex()})")
        lacking = [h for h in wanted if h not in found]
        if lacking and strangers:
            raise BlobMismatch(
                f"{self.settings.url} served, for block {block_id}, {', '.join(strangers)} "
                f"instead of 0x{lacking[0].hex()}: its bytes do not hash to a requested "
                "versioned hash, so the endpoint is faulty or lying. Nothing was accepted; "
                "switch the beacon URL setting to another beacon node or archiver"
            )
        if lacking:
            raise BlobMissing(
                f"{self.settings.url} has no blob 0x{lacking[0].hex()} for block {block_id} "
                f"({len(lacking)} of {len(wanted)} missing). Nothing was accepted; {PRUNING_HINT}"
            )
        return [found[h] for h in wanted]

    def _fetch(self, block_id: int | str, wanted: Sequence[bytes]) -> list[bytes]:
        # One comma-separated list (Anvil keeps only the last of repeated keys).
        query = ",".join("0x" + h.hex() for h in wanted)
        status, body = self._get(f"{BLOBS_PATH}{block_id}?versioned_hashes={query}")
        if status == 200:
            return _blob_list(body, self.settings.url, lambda item: item)
        if status in (404, 405, 501):  # maybe a node without getBlobs: try the sidecars path
            s_status, s_body = self._get(f"{SIDECARS_PATH}{block_id}")
            if s_status == 200:
                return _blob_list(s_body, self.settings.url, _sidecar_blob)
        if status == 404:
            raise BlobMissing(
                f"{self.settings.url} does not know block {block_id} (HTTP 404): wrong block id, "
                f"or the node has not seen it yet. Nothing was accepted; {PRUNING_HINT}"
            )
        raise BeaconUnavailable(
            f"{self.settings.url} answered HTTP {status} for the blobs of block {block_id}: "
            "check that the beacon URL setting points at a beacon API; nothing was accepted"
        )

    def _get(self, path: str) -> tuple[int, bytes]:
        url = self.settings.url.rstrip("/") + path
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout) as resp:
                body = resp.read(self.settings.max_response_bytes + 1)
                if len(body) > self.settings.max_response_bytes:
                    raise BeaconUnavailable(
                        f"{self.settings.url} answered more than "
                        f"{self.settings.max_response_bytes:,} bytes: not a blob list from a "
                        "healthy beacon node; switch the beacon URL setting"
                    )
                return resp.status, body
        except urllib.error.HTTPError as exc:
            if exc.code >= 500 and exc.code != 501:
                raise BeaconUnavailable(
                    f"{self.settings.url} failed with HTTP {exc.code}: the beacon node is "
                    "unhealthy; retry later or switch the beacon URL setting"
                ) from exc
            return exc.code, exc.read()
        except (OSError, ValueError) as exc:  # refused, reset, timeout, bad URL
            raise BeaconUnavailable(
                f"beacon endpoint {self.settings.url} is unreachable ({exc}): start it or fix "
                "the beacon URL setting; nothing was accepted and the read can be retried"
            ) from exc


def _checked_hash(blob: bytes) -> bytes | None:
    """The versioned hash recomputed from the bytes, or None for bytes that are no blob."""
    if len(blob) != BYTES_PER_BLOB:
        return None
    try:
        return kzg.blob_versioned_hash(blob)
    except KzgError:
        return None


def _sidecar_blob(item: object) -> object:
    return item.get("blob") if isinstance(item, dict) else None


def _blob_list(body: bytes, url: str, pick: Callable[[object], object]) -> list[bytes]:
    try:
        doc = json.loads(body)
        items = doc["data"]
        if not isinstance(items, list):
            raise TypeError("data is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise BeaconUnavailable(
            f"{url} answered something that is not a beacon API blob list ({exc}): "
            "check the beacon URL setting; nothing was accepted"
        ) from exc
    out = []
    for item in items:
        raw = pick(item)
        if not isinstance(raw, str):
            out.append(b"")  # malformed: counted as a served blob that matches nothing
            continue
        try:
            out.append(bytes.fromhex(raw[2:]) if raw.startswith("0x") else b"")
        except ValueError:
            out.append(b"")  # malformed: counted as a served blob that matches nothing
    return out
