// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.28;

import {IZkVerifier} from "./IZkVerifier.sol";

/// @title Groth16Verifier
/// @notice Groth16 verification over BN254 with the verifying key given at deployment (stored in
///         immutables), so the contract is committed source and only the key is generated: by the
///         development setup, or by a multi-party ceremony (see docs/zk.md). Up to 5 public inputs.
/// @dev Checks e(-A, B) * e(alpha, beta) * e(vk_x, gamma) * e(C, delta) == 1 with
///      vk_x = IC0 + sum(input[i] * IC[i+1]), using the ecAdd (0x06), ecMul (0x07) and pairing
///      (0x08) precompiles. G2 points are in precompile word order (x.c1, x.c0, y.c1, y.c0).
contract Groth16Verifier is IZkVerifier {
    /// @notice BN254 base field modulus.
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    /// @notice BN254 scalar field modulus (public inputs live below it).
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice The most public inputs a key may have.
    uint256 public constant MAX_INPUTS = 5;

    /// @notice A verifying-key coordinate is not a base-field element.
    error InvalidVerifyingKey();
    /// @notice The key has no public input or more than MAX_INPUTS of them.
    error UnsupportedInputCount(uint256 count);

    /// @notice Number of public inputs of the circuit this key is for.
    uint256 public immutable inputCount;

    uint256 private immutable _alphaX;
    uint256 private immutable _alphaY;
    uint256 private immutable _betaX1;
    uint256 private immutable _betaX0;
    uint256 private immutable _betaY1;
    uint256 private immutable _betaY0;
    uint256 private immutable _gammaX1;
    uint256 private immutable _gammaX0;
    uint256 private immutable _gammaY1;
    uint256 private immutable _gammaY0;
    uint256 private immutable _deltaX1;
    uint256 private immutable _deltaX0;
    uint256 private immutable _deltaY1;
    uint256 private immutable _deltaY0;
    uint256 private immutable _ic0X;
    uint256 private immutable _ic0Y;
    uint256 private immutable _ic1X;
    uint256 private immutable _ic1Y;
    uint256 private immutable _ic2X;
    uint256 private immutable _ic2Y;
    uint256 private immutable _ic3X;
    uint256 private immutable _ic3Y;
    uint256 private immutable _ic4X;
    uint256 private immutable _ic4Y;
    uint256 private immutable _ic5X;
    uint256 private immutable _ic5Y;

    /// @param alpha G1 alpha (x, y).
    /// @param beta  G2 beta  (x.c1, x.c0, y.c1, y.c0).
    /// @param gamma G2 gamma (x.c1, x.c0, y.c1, y.c0).
    /// @param delta G2 delta (x.c1, x.c0, y.c1, y.c0).
    /// @param ic    IC0, IC1, ... as flat (x, y) pairs: the constant term then one per public input.
    constructor(
        uint256[2] memory alpha,
        uint256[4] memory beta,
        uint256[4] memory gamma,
        uint256[4] memory delta,
        uint256[] memory ic
    ) {
        if (ic.length % 2 != 0 || ic.length < 4 || ic.length > 2 * (MAX_INPUTS + 1)) {
            revert UnsupportedInputCount(ic.length / 2 == 0 ? 0 : ic.length / 2 - 1);
        }
        for (uint256 i = 0; i < 4; ++i) {
            if (beta[i] >= Q || gamma[i] >= Q || delta[i] >= Q) revert InvalidVerifyingKey();
        }
        uint256[12] memory icFull;
        for (uint256 i = 0; i < ic.length; ++i) {
            if (ic[i] >= Q) revert InvalidVerifyingKey();
            icFull[i] = ic[i];
        }
        if (alpha[0] >= Q || alpha[1] >= Q) revert InvalidVerifyingKey();
        inputCount = ic.length / 2 - 1;
        (_alphaX, _alphaY) = (alpha[0], alpha[1]);
        (_betaX1, _betaX0, _betaY1, _betaY0) = (beta[0], beta[1], beta[2], beta[3]);
        (_gammaX1, _gammaX0, _gammaY1, _gammaY0) = (gamma[0], gamma[1], gamma[2], gamma[3]);
        (_deltaX1, _deltaX0, _deltaY1, _deltaY0) = (delta[0], delta[1], delta[2], delta[3]);
        (_ic0X, _ic0Y, _ic1X, _ic1Y) = (icFull[0], icFull[1], icFull[2], icFull[3]);
        (_ic2X, _ic2Y, _ic3X, _ic3Y) = (icFull[4], icFull[5], icFull[6], icFull[7]);
        (_ic4X, _ic4Y, _ic5X, _ic5Y) = (icFull[8], icFull[9], icFull[10], icFull[11]);
    }

    /// @inheritdoc IZkVerifier
    function verifyProof(uint256[8] calldata proof, uint256[] calldata input) external view returns (bool) {
        if (input.length != inputCount) return false;
        for (uint256 i = 0; i < 8; ++i) {
            if (proof[i] >= Q) return false;
        }
        bool ok;
        uint256 x = _ic0X;
        uint256 y = _ic0Y;
        for (uint256 i = 0; i < input.length; ++i) {
            // INVARIANT: inputs are canonical field elements, so no two encodings verify the same
            // statement (input + R would otherwise pass as input).
            if (input[i] >= R) return false;
            (uint256 icX, uint256 icY) = _ic(i + 1);
            (ok, x, y) = _mulAdd(x, y, icX, icY, input[i]);
            if (!ok) return false;
        }

        uint256[24] memory p;
        // e(-A, B)
        p[0] = proof[0];
        p[1] = proof[1] == 0 ? 0 : Q - proof[1];
        (p[2], p[3], p[4], p[5]) = (proof[2], proof[3], proof[4], proof[5]);
        // e(alpha, beta)
        (p[6], p[7]) = (_alphaX, _alphaY);
        (p[8], p[9], p[10], p[11]) = (_betaX1, _betaX0, _betaY1, _betaY0);
        // e(vk_x, gamma)
        (p[12], p[13]) = (x, y);
        (p[14], p[15], p[16], p[17]) = (_gammaX1, _gammaX0, _gammaY1, _gammaY0);
        // e(C, delta)
        (p[18], p[19]) = (proof[6], proof[7]);
        (p[20], p[21], p[22], p[23]) = (_deltaX1, _deltaX0, _deltaY1, _deltaY0);

        uint256[1] memory out;
        assembly ("memory-safe") {
            ok := staticcall(gas(), 0x08, p, 768, out, 32)
        }
        return ok && out[0] == 1;
    }

    /// @dev IC point `i` (immutables cannot be indexed).
    function _ic(uint256 i) private view returns (uint256, uint256) {
        if (i == 1) return (_ic1X, _ic1Y);
        if (i == 2) return (_ic2X, _ic2Y);
        if (i == 3) return (_ic3X, _ic3Y);
        if (i == 4) return (_ic4X, _ic4Y);
        return (_ic5X, _ic5Y);
    }

    /// @dev (ax, ay) + s * (bx, by); ok is false when a point is not on the curve.
    function _mulAdd(uint256 ax, uint256 ay, uint256 bx, uint256 by, uint256 s)
        private
        view
        returns (bool ok, uint256 x, uint256 y)
    {
        uint256[4] memory buf;
        buf[0] = bx;
        buf[1] = by;
        buf[2] = s;
        assembly ("memory-safe") {
            ok := staticcall(gas(), 0x07, buf, 96, add(buf, 64), 64)
        }
        if (!ok) return (false, 0, 0);
        buf[0] = ax;
        buf[1] = ay;
        assembly ("memory-safe") {
            ok := staticcall(gas(), 0x06, buf, 128, buf, 64)
        }
        return (ok, buf[0], buf[1]);
    }
}
