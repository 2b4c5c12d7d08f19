"""The error types of the blob package, all under the project's root error."""

from ..errors import L2KitError


class BlobError(L2KitError):
    """Bad blob input or a failed blob operation; the message says which and what to do."""


class BlobDecodeError(BlobError):
    """Blobs that are not the canonical encoding of any payload (docs/blobs.md, "Decoding").

    ``blob`` and ``element`` name the first offending field element, so a dispute can open it.
    """

    def __init__(self, message: str, blob: int, element: int) -> None:
        super().__init__(message)
        self.blob = blob
        self.element = element


class KzgError(BlobError):
    """A KZG input ckzg refused (a blob with an element >= the modulus, a bad point)."""


class BeaconError(BlobError):
    """The beacon API could not give the blobs asked for; base of the reader's errors."""


class BeaconUnavailable(BeaconError):
    """The beacon endpoint is down, timed out or answered something that is not the API."""


class BlobMissing(BeaconError):
    """The endpoint answered but lacks a blob (pruned, wrong block, or not yet served)."""


class BlobMismatch(BeaconError):
    """The endpoint served bytes whose commitment does not hash to the expected versioned hash."""
