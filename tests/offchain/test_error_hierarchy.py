"""Gate (docs/checks.md): every deliberate error of offchain/ derives from `L2KitError` through a
domain base (offchain/errors.py), and `TxFailed` is defined once.

The test imports every module of the package and looks at each exception class defined there:

- it must be a subclass of `L2KitError`;
- if `L2KitError` is one of its direct bases, it must be a registered domain base (DOMAIN_BASES):
  a leaf error says which system it belongs to;
- no second class named like a shared error (`TxFailed`).

ALLOWED names each exception left outside the tree and why. An allowed entry that no longer
exists or is now inside the tree fails too, so the list only shrinks.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import offchain
from offchain import errors
from offchain.errors import L2KitError

#: Classes that may derive from L2KitError directly: the domain bases.
DOMAIN_BASES = {
    "offchain.errors.BridgeError",
    "offchain.errors.DeploymentError",
    "offchain.errors.L1Error",
    "offchain.errors.SequencerError",
    "offchain.errors.HttpApiError",
    "offchain.errors.HttpCallError",
    "offchain.errors.CliError",
    "offchain.errors.GovernanceError",
    "offchain.errors.DemoError",
    "offchain.errors.RollupError",
    "offchain.errors.ZkError",
    "offchain.blobs.errors.BlobError",
    "offchain.bls.errors.BLSError",
    "offchain.channels.model.ChannelError",
}

_ROLLUP = "offchain/rollup/ is being rewritten (issue 11): derive from offchain.errors.RollupError"
_ZK = "offchain/zk/ is being rewritten (issue 14): derive from offchain.errors.ZkError"

#: Exceptions left outside the tree, with the reason.
ALLOWED = {
    "offchain.l1.sender._MinedMeanwhile": "private control flow inside send(); never escapes",
    "offchain.rollup.execute._Invalid": "private control flow of the executor; never escapes",
    "offchain.rollup.checkpoint.CheckpointError": _ROLLUP,
    "offchain.rollup.codec.CodecError": _ROLLUP,
    "offchain.rollup.exit.ExitError": _ROLLUP,
    "offchain.rollup.l1.TxFailed": _ROLLUP + "; import offchain.errors.TxFailed instead",
    "offchain.rollup.l1.UnreadableBatch": _ROLLUP,
    "offchain.rollup.posting.NonCanonicalPosting": _ROLLUP,
    "offchain.rollup.store.CorruptState": _ROLLUP,
    "offchain.zk.batch.BatchError": _ZK,
    "offchain.zk.batch_runner.SubmitFailed": _ZK,
    "offchain.zk.prover.ProofRejected": _ZK,
    "offchain.zk.replay.ReplayError": _ZK,
    "offchain.zk.l1_batches.BatchUnreadable": _ZK + " (derives from L2KitError with no domain)",
}

#: Errors that exist once, in offchain/errors.py.
DEFINED_ONCE = {"TxFailed": errors.TxFailed}


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def exception_classes() -> list[type[BaseException]]:
    """Every exception class defined in a module of the offchain package."""
    found = []
    for info in pkgutil.walk_packages(offchain.__path__, "offchain."):
        if info.name.endswith("__main__"):  # running it is what importing it does
            continue
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == info.name and issubclass(cls, BaseException):
                found.append(cls)
    return sorted(found, key=_name)


def violations(classes: list[type[BaseException]], allowed: dict[str, str]) -> list[str]:
    """What is wrong with the hierarchy of `classes` (empty when every class is in order)."""
    out = []
    for cls in classes:
        name = _name(cls)
        if name in allowed:
            continue
        if not issubclass(cls, L2KitError):
            bases = ", ".join(b.__name__ for b in cls.__bases__)
            out.append(f"{name} ({bases}) is not an L2KitError: derive from a domain base")
        elif L2KitError in cls.__bases__ and name not in DOMAIN_BASES:
            out.append(f"{name} derives from L2KitError directly: derive from its domain base")
        twin = DEFINED_ONCE.get(cls.__name__)
        if twin is not None and cls is not twin:
            out.append(f"{name} duplicates {_name(twin)}: import that one")
    return out


@pytest.fixture(scope="module")
def classes() -> list[type[BaseException]]:
    return exception_classes()


def test_every_deliberate_error_is_under_a_domain_base(classes):
    assert violations(classes, ALLOWED) == []


def test_the_allow_list_names_only_classes_still_outside_the_tree(classes):
    by_name = {_name(c): c for c in classes}
    stale = [n for n in ALLOWED if n not in by_name or not violations([by_name[n]], {})]
    assert stale == [], "remove these from ALLOWED: they are gone or already in order"


def test_every_domain_base_exists_and_derives_from_l2kit_error(classes):
    by_name = {_name(c): c for c in classes}
    for name in DOMAIN_BASES:
        assert name in by_name, name
        assert L2KitError in by_name[name].__bases__, name


def test_the_gate_catches_each_kind_of_stray_error():
    class Stray(ValueError):
        pass

    class Flat(L2KitError):
        pass

    class TxFailed(RuntimeError):
        pass

    class Fine(errors.L1Error):
        pass

    found = violations([Stray, Flat, TxFailed, Fine], {})
    assert len(found) == 4
    assert "Stray (ValueError) is not an L2KitError" in found[0]
    assert "Flat derives from L2KitError directly" in found[1]
    assert "TxFailed (RuntimeError) is not an L2KitError" in found[2]
    assert "duplicates offchain.errors.TxFailed" in found[3]


def test_catch_sites_keep_working():
    """The builtin bases stay where callers catch them (ValueError, RuntimeError)."""
    from offchain.channels.chain import TxFailed as ChannelsTxFailed
    from offchain.channels.model import ChannelError
    from offchain.json_http import HttpRefused

    assert ChannelsTxFailed is errors.TxFailed
    assert issubclass(errors.TxFailed, RuntimeError) and issubclass(errors.TxFailed, errors.L1Error)
    assert issubclass(ChannelError, ValueError) and issubclass(ChannelError, L2KitError)
    assert issubclass(errors.DemoError, RuntimeError)
    refused = HttpRefused(409, "conflict", "taken")
    assert (refused.status, refused.code, str(refused)) == (409, "conflict", "taken")
