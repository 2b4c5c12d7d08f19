# SPDX-License-Identifier: GPL-3.0-or-later
"""A second Groth16 verifier, independent of groth16py (arkworks) and of Groth16Verifier.sol:
py_ecc's pure-Python BN254 pairing (`py_ecc.optimized_bn128`).

It reads the verifying key in the snarkjs JSON shape (`CircuitKeys.verifying_key_json()`, not
the Solidity constructor arguments, so `verifier_args`' word swapping is checked rather than
reused) and the proof as the 8 words the rollup posts: A (x, y), B (x.c1, x.c0, y.c1, y.c0),
C (x, y). The check is one product of four Miller loops and one final exponentiation:

    e(-A, B) · e(alpha, beta) · e(vk_x, gamma) · e(C, delta) == 1,
    vk_x = IC[0] + sum(input_i · IC[i+1]).

About 1 s per proof on the shared machine (four Miller loops ≈ 0.15 s each, the final
exponentiation ≈ 0.35 s, the G2 subgroup check ≈ 0.1 s)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from py_ecc.optimized_bn128 import (
    FQ,
    FQ2,
    FQ12,
    add,
    b,
    b2,
    curve_order,
    field_modulus,
    final_exponentiate,
    is_inf,
    is_on_curve,
    multiply,
    neg,
    pairing,
)


def _g1(x: int, y: int) -> tuple[FQ, FQ, FQ]:
    if not (x < field_modulus and y < field_modulus):
        raise ValueError("G1 coordinate not below the base field modulus")
    point = (FQ(x), FQ(y), FQ.one())
    if not is_on_curve(point, b):
        raise ValueError("G1 point not on the curve")
    return point


def _g2(x_c0: int, x_c1: int, y_c0: int, y_c1: int) -> tuple[FQ2, FQ2, FQ2]:
    if not all(c < field_modulus for c in (x_c0, x_c1, y_c0, y_c1)):
        raise ValueError("G2 coordinate not below the base field modulus")
    point = (FQ2([x_c0, x_c1]), FQ2([y_c0, y_c1]), FQ2.one())
    if not is_on_curve(point, b2):
        raise ValueError("G2 point not on the twist")
    # The twist has a cofactor: a point outside the order-r subgroup is not a valid B.
    if not is_inf(multiply(point, curve_order)):
        raise ValueError("G2 point not in the order-r subgroup")
    return point


def _vk_g2(point: Sequence[Sequence[str]]) -> tuple[FQ2, FQ2, FQ2]:
    """snarkjs JSON G2: [[x.c0, x.c1], [y.c0, y.c1], [1, 0]]."""
    (x0, x1), (y0, y1) = point[0], point[1]
    return _g2(int(x0), int(x1), int(y0), int(y1))


def verify(vk: Mapping[str, Any], proof_words: Sequence[int], public: Sequence[int]) -> bool:
    """True iff the proof verifies under the snarkjs-JSON verifying key `vk` for `public`.

    Malformed input (off-curve points, coordinates or inputs out of range, a wrong input
    count) is a refusal (False), as on chain."""
    ic = vk["IC"]
    if len(proof_words) != 8 or len(public) != len(ic) - 1:
        return False
    if any(not 0 <= x < curve_order for x in public):
        return False
    try:
        a = _g1(proof_words[0], proof_words[1])
        b_point = _g2(proof_words[3], proof_words[2], proof_words[5], proof_words[4])
        c = _g1(proof_words[6], proof_words[7])
        alpha = _g1(int(vk["vk_alpha_1"][0]), int(vk["vk_alpha_1"][1]))
        beta, gamma, delta = (_vk_g2(vk[k]) for k in ("vk_beta_2", "vk_gamma_2", "vk_delta_2"))
        vk_x = _g1(int(ic[0][0]), int(ic[0][1]))
        for x, point in zip(public, ic[1:], strict=True):
            vk_x = add(vk_x, multiply(_g1(int(point[0]), int(point[1])), x))
    except ValueError:
        return False
    product = FQ12.one()
    for g2_point, g1_point in ((b_point, neg(a)), (beta, alpha), (gamma, vk_x), (delta, c)):
        product = product * pairing(g2_point, g1_point, final_exponentiate=False)
    return final_exponentiate(product) == FQ12.one()
