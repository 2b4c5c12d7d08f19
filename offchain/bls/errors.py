"""The one error type of the BLS package."""

from ..errors import L2KitError


class BLSError(L2KitError):
    """Bad BLS input (a malformed point, key or tag); the message says which and what to do."""
