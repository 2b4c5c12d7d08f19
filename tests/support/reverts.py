"""Custom-error reverts checked through web3's eth_call.

Ape's revert decoding takes seconds on large calldata; these read the 4-byte selector only."""

from __future__ import annotations

from typing import Any

from eth_utils import keccak
from web3.exceptions import ContractCustomError

from offchain.chain import abi_of


def error_selectors(abi: list[dict[str, Any]]) -> dict[str, bytes]:
    """Selector of every custom error an ABI declares, by error name."""
    out = {}
    for item in abi:
        if item.get("type") == "error":
            types = ",".join(i["type"] for i in item["inputs"])
            out[item["name"]] = keccak(text=f"{item['name']}({types})")[:4]
    return out


def assert_reverts(contract: Any, fn: Any, error: str, sender: str, value: int = 0) -> None:
    """`fn` (a web3 ContractFunction of `contract`) reverts with the custom error `error`."""
    selector = _selector(contract.abi, error)
    try:
        fn.call({"from": sender, "value": value})
    except ContractCustomError as e:
        _check(e, selector, error)
        return
    raise AssertionError(f"call did not revert (expected {error})")


def call_reverts(contract: Any, error: str, method: str, *args: Any, sender: Any) -> None:
    """`contract.method(*args)` (an Ape contract, arguments as Ape takes them) reverts with the
    custom error `error`, checked by an eth_call instead of `ape.reverts`.

    `ape.reverts` sends the transaction and decodes its failure from a trace: on Anvil with
    step tracing that takes seconds to tens of seconds for a call that reads large calldata (a
    fraud proof with its witnesses). The eth_call runs the same calldata (encoded by Ape) on the
    same state, and the 4-byte selector says which error it stopped at."""
    selector = _selector(abi_of(contract.contract_type.name), error)
    data = getattr(contract, method).encode_input(*args)
    tx = {"from": getattr(sender, "address", sender), "to": contract.address, "data": data}
    try:
        contract.provider.web3.eth.call(tx)
    except ContractCustomError as e:
        _check(e, selector, error)
        return
    raise AssertionError(f"{method} did not revert (expected {error})")


def _selector(abi: list[dict[str, Any]], error: str) -> bytes:
    selectors = error_selectors(abi)
    if error not in selectors:
        raise AssertionError(f"{error} is not an error of this contract's ABI")
    return selectors[error]


def _check(e: ContractCustomError, selector: bytes, error: str) -> None:
    data = e.data if isinstance(e.data, str) else e.args[0]
    assert bytes.fromhex(data[2:10]) == selector, f"reverted with {data[:10]}, not {error}"
