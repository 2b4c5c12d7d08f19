"""Lint-like gate (docs/checks.md): every L1 transaction goes through the one L1 sender.

Outside `offchain/l1/`, no code under offchain/ or scripts/ may set a fee or gas field literally
("gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "maxFeePerBlobGas") or sign, build,
estimate or broadcast a transaction with raw web3 (`sign_transaction`, `build_transaction`,
`send_raw_transaction`, `estimate_gas`, `transact`). Ape scripts that send with
`contract.fn(..., sender=account)` are fine: Ape estimates gas and fees itself. The allow-list
below names each remaining case and why; an entry that no longer matches fails too, so the
list cannot go stale.
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIELDS = {"gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "maxFeePerBlobGas"}
CALLS = {
    "sign_transaction",
    "build_transaction",
    "send_raw_transaction",
    "estimate_gas",
    "transact",
}
#: The sender itself: where fees, gas, signing and broadcasting live.
SENDER = ("offchain/l1/",)

#: path -> (names it may use, why)
ALLOWED: dict[str, tuple[set[str], str]] = {
    "offchain/blobs/tx.py": (
        {"maxFeePerGas", "maxPriorityFeePerGas", "maxFeePerBlobGas", "gas"}
        | {"estimate_gas", "sign_transaction"},
        "build_blob_tx signs one version for inspecting the wire form and never sends it; its "
        "fees come from the sender's choose_fees (sending is send_blobs -> L1Sender)",
    ),
}


def uses(path: Path) -> set[str]:
    """The fee/gas field literals and raw-web3 sending calls `path` contains."""
    found: set[str] = set()
    tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text()).readline))
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.STRING and not tok.string.startswith(('"""', "'''")):
            try:
                value = ast.literal_eval(tok.string)
            except (ValueError, SyntaxError):
                continue
            if value in FIELDS:
                found.add(value)
        elif tok.type == tokenize.NAME and tok.string in CALLS and tokens[i - 1].string == ".":
            found.add(tok.string)
    return found


def scanned() -> dict[str, set[str]]:
    files = sorted((ROOT / "offchain").rglob("*.py")) + sorted((ROOT / "scripts").glob("*.py"))
    out = {}
    for f in files:
        rel = f.relative_to(ROOT).as_posix()
        if rel.startswith(SENDER):
            continue
        found = uses(f)
        if found:
            out[rel] = found
    return out


def test_no_fee_gas_or_raw_send_outside_the_l1_sender():
    allowed = ALLOWED
    offenders = {
        path: sorted(names - allowed.get(path, (set(), ""))[0])
        for path, names in scanned().items()
        if names - allowed.get(path, (set(), ""))[0]
    }
    assert offenders == {}, (
        "send L1 transactions through offchain.l1.sender.L1Sender (fees and gas from the node), "
        f"or add a justified entry to ALLOWED: {offenders}"
    )


def test_the_allow_list_is_not_stale():
    found = scanned()
    stale = {
        path: sorted(names - found.get(path, set()))
        for path, (names, _why) in ALLOWED.items()
        if names - found.get(path, set())
    }
    assert stale == {}, f"allow-list entries that no longer match: remove them: {stale}"


def test_the_gate_catches_a_hard_coded_fee(tmp_path):
    """The gate itself can fail: a file with a literal fee field and a raw send is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        'tx = {"maxFeePerGas": 10**9, "gas": 21_000}\n'
        "w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)\n"
        '"""A docstring naming "gas" and maxFeePerGas is prose, not a field."""\n'
    )
    assert uses(bad) == {"maxFeePerGas", "gas", "send_raw_transaction", "sign_transaction"}
