# SPDX-License-Identifier: GPL-3.0-or-later
"""No circuit of the project has a signal that no constraint uses (such a signal is a free
choice of the prover: an input the circuit forgets to check, a `<--` hint never constrained).

Each circuit is compiled by the npm circom2 (circom 2.2.3, groth16py's version) with `--O0`, so
every signal keeps its own wire, and the R1CS is read back: every wire except the constant one
must have a term in some constraint (tests/zk/zk_circom2.py). The circuits are the exit circuit
(depth 4, as in the tests, and 20, as deployed) and the batch circuit at the tests' two sizes
(one slot: one deposit, transaction and payout record; PARAMS: two of each, so the chaining
between slots and the record selection are covered); deposit.circom, tx.circom, merkle.circom
and common.circom are templates of the batch circuit. The batch circuit takes 15-20 s to
compile at `--O0` (0.7-1.1M wires), so those two are marked slow."""

from __future__ import annotations

import pytest
from zk_circom2 import compile_circom2, compile_source, free_signals, npm_tools_missing
from zk_helpers import PARAMS, SMALL_PARAMS

from offchain.zk.circuit import CircuitSpec, exit_spec, rollup_spec

pytestmark = pytest.mark.skipif(npm_tools_missing() is not None, reason=str(npm_tools_missing()))

INTENTIONALLY_FREE: dict[str, str] = {}
"""Signal name -> why it may be in no constraint. Empty: the circuits have none."""


def _check(spec: CircuitSpec, tmp_path) -> None:
    free = free_signals(compile_circom2(spec, tmp_path / spec.name, "--O0"))
    unexplained = [name for name in free if name not in INTENTIONALLY_FREE]
    assert not unexplained, (
        f"{spec.name}: {len(unexplained)} signals appear in no constraint (constrain them, or "
        f"list them in INTENTIONALLY_FREE with the reason): {unexplained[:20]}"
    )


@pytest.mark.parametrize("depth", [PARAMS.depth, 20])
def test_exit_circuit_has_no_free_signal(depth, tmp_path):
    _check(exit_spec(depth), tmp_path)


@pytest.mark.slow  # 15-20 s of circom2 per size
@pytest.mark.parametrize("params", [SMALL_PARAMS, PARAMS], ids=lambda p: p.tag)
def test_batch_circuit_has_no_free_signal(params, tmp_path):
    _check(rollup_spec(params), tmp_path)


def test_check_finds_free_signals(tmp_path):
    """The check can fail: an input never used and a `<--` hint never constrained are found,
    a signal used only in a linear constraint is not."""
    source = """pragma circom 2.0.0;
include "bitify.circom";
template Leaky() {
    signal input a;
    signal input forgotten;
    signal output c;
    signal hint;
    signal sum;
    hint <-- a * 7;
    sum <== a + 1;
    c <== a * sum;
    component bits = Num2Bits(2);
    bits.in <== a;
}
component main {public [a]} = Leaky();
"""
    assert free_signals(compile_source(source, tmp_path, "--O0")) == [
        "main.forgotten",
        "main.hint",
    ]
