"""The root of every error the off-chain package raises on purpose."""


class L2KitError(Exception):
    """Something the user can act on went wrong; the message says what and what to do."""


class DeploymentNotFound(L2KitError):
    """No deployment file for the requested network."""


class InvalidRecipient(L2KitError):
    """Bytes that are not a valid L2 recipient encoding."""
