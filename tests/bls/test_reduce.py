"""BLS.reduce512 (hash_to_field's 512-bit -> mod p reduction without MODEXP) against Python
integers: random and edge inputs, including the values around multiples of p where a quotient
estimate is off by one or two. The RFC 9380 hash_to_field vectors (test_bls_vectors.py) check it
inside hash-to-curve."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offchain.bls.hint import P

WORD = 1 << 256
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _on_chain(harness, v: int) -> int:
    hi, lo, _ = harness.reduce512(v >> 256, v % WORD)
    assert hi < 1 << 128
    return hi * WORD + lo


@SETTINGS
@given(v=st.integers(0, WORD * WORD - 1))
def test_reduce512_agrees_with_python_on_random_values(harness, v):
    assert _on_chain(harness, v) == v % P


def test_reduce512_edges(harness):
    top = WORD * WORD - 1
    q_max = top // P
    edges = [0, 1, P - 1, P, P + 1, 2 * P - 1, 2 * P, 3 * P - 1, WORD - 1, WORD, WORD * (P >> 256)]
    edges += [top, top - 1, q_max * P, q_max * P - 1, q_max * P + P - 1]
    # around multiples of p at every scale (where the estimates are least exact)
    edges += [k * P + d for k in (2**8, 2**64 - 1, 2**128 + 3, q_max - 1) for d in (-1, 0, 1)]
    edges += [(1 << b) - 1 for b in range(250, 513, 7)]
    for v in edges:
        if 0 <= v <= top:
            assert _on_chain(harness, v) == v % P, hex(v)


def test_reduce512_costs_less_than_a_modexp_on_osaka(harness):
    # EIP-7883 prices a MODEXP at 500 gas at least, before the call itself.
    assert harness.reduce512(WORD - 1, WORD - 1)[2] < 500
