"""The root of every error the off-chain package raises on purpose, and the domain bases under it.

Every deliberate error derives from `L2KitError` through the base of its domain, so a caller can
catch one system's failures (`except L1Error`) or all of them (`except L2KitError`: the command
line prints the message and exits 1). A domain's own errors live in its package and derive from
its base here (or from the base its package defines: `BlobError`, `BLSError`, `ChannelError`).
tests/offchain/test_error_hierarchy.py fails on an exception class outside this tree.

    L2KitError
    ├── BridgeError        the deposit queue, recipient encodings (bridge.py, recipient.py)
    ├── DeploymentError    deployment files
    ├── L1Error            sending L1 transactions (offchain/l1/): TxFailed, SendError...
    ├── SequencerError     the operator core: admission, configuration, store, preflight, its client
    ├── HttpApiError       a refusal a local HTTP API answers with (status, code, message)
    ├── HttpCallError      calling a local HTTP API failed (offchain/json_http.py)
    ├── CliError           the command line: keys, amounts, waiting, refused sends
    ├── GovernanceError    timelock and council calls
    ├── DemoError          `make demo`
    ├── RollupError        the optimistic rollup's off-chain side (offchain/rollup/, converting)
    ├── ZkError            the zk rollup's off-chain side (offchain/zk/, converting)
    ├── BlobError          (offchain/blobs/errors.py)
    ├── BLSError           (offchain/bls/errors.py)
    └── ChannelError       (offchain/channels/model.py: carries a wire error code)
"""


class L2KitError(Exception):
    """Something the user can act on went wrong; the message says what and what to do."""


class BridgeError(L2KitError):
    """The bridge's deposit queue or a recipient encoding is not what it must be."""


class DeploymentError(L2KitError):
    """A deployment file is missing or does not describe the expected contracts."""


class L1Error(L2KitError):
    """An L1 transaction could not be sent, was refused, or its data could not be read."""


class SequencerError(L2KitError):
    """The operator core (or a client talking to it) refused or could not do something."""


class HttpApiError(L2KitError):
    """A local HTTP API refuses a request: `status` for HTTP, `code` for programs."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class HttpCallError(L2KitError):
    """A call to a local HTTP API failed (refused, unreachable, or not the expected API)."""


class CliError(L2KitError):
    """The command line cannot do what it was asked (bad input, missing key, refused send)."""


class GovernanceError(L2KitError):
    """A governance call (timelock, council) is not possible as asked."""


class DemoError(L2KitError, RuntimeError):
    """A step of `make demo` did not go as scripted."""


class RollupError(L2KitError):
    """The optimistic rollup's off-chain side refused input or found inconsistent data."""


class ZkError(L2KitError):
    """The zk rollup's off-chain side refused input or found inconsistent data."""


class TxFailed(L1Error, RuntimeError):
    """A transaction reverted or could not be brought on chain; the message says why."""


class DeploymentNotFound(DeploymentError):
    """No deployment file for the requested network."""


class InvalidRecipient(BridgeError):
    """Bytes that are not a valid L2 recipient encoding."""
