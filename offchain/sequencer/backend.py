"""What the sequencer core asks of a rollup backend (optimistic, zk): the parts that differ."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from offchain.sequencer.store import StoredTx
from offchain.sequencer.store_open import Store


class Prepared(Protocol):
    """A decoded, signature-checked transaction, ready for admission (from `Backend.prepare`)."""

    @property
    def tx_hash(self) -> bytes: ...

    @property
    def kind(self) -> str: ...

    @property
    def payload(self) -> bytes: ...


class Backend(Protocol):
    mode: str  # "optimistic" | "zk"
    store: Store
    frozen: bool

    @property
    def proposer(self) -> str: ...

    def prepare(self, body: Mapping[str, Any]) -> Prepared:
        """Validate the JSON fields, decode, hash and check the signature. CPU only, no store,
        no lock (a read-only lookup of the sender's key is allowed). Raises ApiError/Rejected."""
        ...

    # Optional: `verify_group(prepared) -> list[Rejected | None]`, the signature verdict of a
    # whole admission group at once (called by `Sequencer.admit_many` off the lock, before
    # admission); a backend without it checks signatures in `prepare`.

    def check_frozen(self) -> bool:
        """Whether the rollup is frozen (a cached L1 read)."""
        ...

    def begin_group(self) -> Any:
        """A scratch view of the pending state for one admission group."""
        ...

    def admit(self, scratch: Any, item: Prepared) -> Exception | None:
        """Check `item` against the scratch view and apply it there; the Rejected if refused
        (the scratch view unchanged)."""
        ...

    def is_resend(self, item: Prepared, stored: StoredTx) -> bool:
        """Whether `item` is an idempotent resend of the accepted `stored` (same signer)."""
        ...

    def commit_group(self, scratch: Any) -> None:
        """Make the scratch view the pending state (after its transactions are durable)."""
        ...

    def recover(self) -> None: ...

    def post_if_due(self, force: bool = False) -> int | None: ...

    def track_finality(self) -> None: ...

    def status_parts(self) -> dict[str, Any]:
        """The `l2`, `l1` and `finality` parts of the common status."""
        ...

    def tx_json(self, stored: StoredTx) -> dict[str, Any]:
        """The POST /tx answer for an accepted transaction."""
        ...
