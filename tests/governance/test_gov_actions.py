"""Pure decisions of `ape run governance`: ids, lookups, execute arguments, cancel checks."""

import pytest

from offchain.errors import L2KitError
from offchain.governance.actions import check_cancellable, execute_call, find, parse_id
from offchain.governance.operations import Call, operation_id
from offchain.governance.watch import Cancelled, Executed, Salt, Scheduled, changes

T = "0x00000000000000000000000000000000000000aa"
Z = b"\x00" * 32


def _single(salt=Z, at=100, delay=50):
    c = Call(T, 0, b"\x01")
    op = operation_id([c], Z, salt)
    evs = [Scheduled(op, 0, T, 0, c.data, Z, delay, at)]
    if salt != Z:
        evs.append(Salt(op, salt))
    return op, evs


def test_parse_id_wants_32_bytes_of_hex():
    assert parse_id("0x" + "ab" * 32) == b"\xab" * 32
    for bad in ("0x1234", "zz" * 32, ""):
        with pytest.raises(L2KitError, match="not an operation id"):
            parse_id(bad)


def test_find_names_what_is_missing():
    op, evs = _single()
    assert find(changes(evs, 0, 0), op).id == op
    with pytest.raises(L2KitError, match="was ever scheduled"):
        find(changes(evs, 0, 0), b"\x07" * 32)


@pytest.mark.parametrize("salt", [Z, b"\x09" * 32], ids=["no-salt", "salt"])
def test_execute_call_rebuilds_the_single_operation(salt):
    op, evs = _single(salt)
    call = execute_call(find(changes(evs, 150, 0), op), 150)
    assert call.method == "execute" and call.args == (T, 0, b"\x01", Z, salt)


def test_execute_call_rebuilds_a_batch_in_index_order():
    calls = [Call(T, 0, b"\x01"), Call(T, 5, b"\x02")]
    op = operation_id(calls, Z, Z, batch=True)
    evs = [
        Scheduled(op, 1, T, 5, b"\x02", Z, 10, 0),
        Scheduled(op, 0, T, 0, b"\x01", Z, 10, 0),
    ]
    call = execute_call(find(changes(evs, 10, 0), op), 10)
    assert call.method == "executeBatch"
    assert call.args == ([T, T], [0, 5], [b"\x01", b"\x02"], Z, Z)


def test_a_one_call_batch_uses_batch_hashing():
    c = Call(T, 0, b"\x01")
    op = operation_id([c], batch=True)
    evs = [Scheduled(op, 0, T, 0, c.data, Z, 10, 0)]
    assert execute_call(find(changes(evs, 10, 0), op), 10).method == "executeBatch"


def test_execute_call_refuses_early_done_cancelled_and_inconsistent():
    op, evs = _single()
    with pytest.raises(L2KitError, match="not ready"):
        execute_call(find(changes(evs, 149, 0), op), 149)
    with pytest.raises(L2KitError, match="already executed"):
        execute_call(find(changes([*evs, Executed(op, 0)], 200, 0), op), 200)
    with pytest.raises(L2KitError, match="cancelled"):
        execute_call(find(changes([*evs, Cancelled(op)], 200, 0), op), 200)
    bogus = [Scheduled(b"\x05" * 32, 0, T, 0, b"\x01", Z, 1, 0)]
    with pytest.raises(L2KitError, match="do not hash to its id"):
        execute_call(find(changes(bogus, 5, 0), b"\x05" * 32), 5)


def test_only_live_operations_can_be_cancelled():
    op, evs = _single()
    check_cancellable(find(changes(evs, 0, 0), op))
    check_cancellable(find(changes(evs, 500, 0), op))  # ready
    with pytest.raises(L2KitError, match="done"):
        check_cancellable(find(changes([*evs, Executed(op, 0)], 500, 0), op))
