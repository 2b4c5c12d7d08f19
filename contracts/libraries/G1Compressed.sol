// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BLS} from "./BLS.sol";

/// @title G1Compressed
/// @notice Decompression of a 48-byte compressed BLS12-381 G1 point (ZCash / IETF serialisation,
///         docs/bls.md §2.2) into the EIP-2537 form BLS.sol takes.
/// @dev First byte flags: 0x80 compressed (must be set), 0x40 infinity, 0x20 sign of y (set iff
///      y > (p - 1) / 2, i.e. y > p - y). x is the remaining 381 bits and must be < p. On
///      E: y² = x³ + 4 and p ≡ 3 (mod 4), a square root of a square a is a^((p + 1) / 4): the
///      MODEXP precompile computes x³ and that root, and the root is checked by squaring (a
///      non-square x³ + 4 has no root: the x is not on the curve). The result is on the curve but
///      not necessarily in the subgroup: the caller checks that with BLS.isValidG1.
library G1Compressed {
    /// @notice (p + 1) / 4, split like an Fp element (hi below 2^128).
    uint256 internal constant SQRT_EXP_HI = 0x0680447a8e5ff9a692c6e9ed90d2eb35;
    uint256 internal constant SQRT_EXP_LO = 0xd91dd2e13ce144afd9cc34a83dac3d8907aaffffac54ffffee7fbfffffffeaab;

    /// @notice Decompress `data` (48 bytes).
    /// @param data The compressed point.
    /// @return ok False for a wrong length, bad flags, a non-canonical x (>= p) or an x off the
    ///         curve; the point is then meaningless.
    /// @return point The point (all zero for the identity).
    function decompress(bytes calldata data) internal view returns (bool ok, BLS.G1Point memory point) {
        if (data.length != 48) return (false, point);
        uint256 w0;
        uint256 w1;
        assembly ("memory-safe") {
            w0 := calldataload(data.offset)
            w1 := calldataload(add(data.offset, 16))
        }
        uint256 flags = w0 >> 253;
        // Top 16 bytes of the 48-byte x (flags cleared), then the low 32 bytes.
        uint256 xHi = (w0 >> 128) & ((1 << 125) - 1);
        uint256 xLo = w1;
        if (flags & 4 == 0) return (false, point);
        if (flags & 2 != 0) {
            // Infinity: no sign, x all zero (the canonical encoding 0xc0 00..00).
            return (flags == 6 && xHi == 0 && xLo == 0, point);
        }
        if (!_lessThanP(xHi, xLo)) return (false, point);
        // a = x³ + 4 mod p (x³ < p, so one conditional subtraction suffices).
        (uint256 aHi, uint256 aLo) = _modexp(xHi, xLo, 0, 3);
        unchecked {
            uint256 lo = aLo + 4;
            aHi += lo < aLo ? 1 : 0;
            aLo = lo;
        }
        if (!_lessThanP(aHi, aLo)) (aHi, aLo) = _subP(aHi, aLo);
        (uint256 yHi, uint256 yLo) = _modexp(aHi, aLo, SQRT_EXP_HI, SQRT_EXP_LO);
        (uint256 sHi, uint256 sLo) = _modexp(yHi, yLo, 0, 2);
        if (sHi != aHi || sLo != aLo) return (false, point);
        bool largest = _greaterThanNeg(yHi, yLo);
        if (largest != (flags & 1 == 1)) {
            // The other root, p - y (p - 0 = p is no point: y = 0 has no second root).
            if (yHi | yLo == 0) return (false, point);
            (yHi, yLo) = _neg(yHi, yLo);
        }
        point = BLS.G1Point(xHi, xLo, yHi, yLo);
        return (true, point);
    }

    /// @dev (hi, lo) < p.
    function _lessThanP(uint256 hi, uint256 lo) private pure returns (bool) {
        return hi < BLS.P_HI || (hi == BLS.P_HI && lo < BLS.P_LO);
    }

    /// @dev (hi, lo) - p, for p <= (hi, lo) < 2p.
    function _subP(uint256 hi, uint256 lo) private pure returns (uint256, uint256) {
        unchecked {
            uint256 borrow = lo < BLS.P_LO ? 1 : 0;
            return (hi - BLS.P_HI - borrow, lo - BLS.P_LO);
        }
    }

    /// @dev p - (hi, lo), for 0 < (hi, lo) < p.
    function _neg(uint256 hi, uint256 lo) private pure returns (uint256, uint256) {
        unchecked {
            uint256 borrow = BLS.P_LO < lo ? 1 : 0;
            return (BLS.P_HI - hi - borrow, BLS.P_LO - lo);
        }
    }

    /// @dev y > p - y (the ZCash "lexicographically largest" root), for y < p.
    function _greaterThanNeg(uint256 hi, uint256 lo) private pure returns (bool) {
        if (hi | lo == 0) return false;
        (uint256 nHi, uint256 nLo) = _neg(hi, lo);
        return hi > nHi || (hi == nHi && lo > nLo);
    }

    /// @dev base^exp mod p through MODEXP: base and p 64 bytes; exp 64 bytes, or 32 when eHi is
    ///      zero (MODEXP prices a long exponent by its length, not its value).
    function _modexp(uint256 bHi, uint256 bLo, uint256 eHi, uint256 eLo) private view returns (uint256 rHi, uint256 rLo) {
        bool ok;
        assembly ("memory-safe") {
            let m := mload(0x40)
            let eLen := 32
            if eHi { eLen := 64 }
            mstore(m, 64)
            mstore(add(m, 32), eLen)
            mstore(add(m, 64), 64)
            mstore(add(m, 96), bHi)
            mstore(add(m, 128), bLo)
            let e := add(m, 160)
            if eHi {
                mstore(e, eHi)
                e := add(e, 32)
            }
            mstore(e, eLo)
            mstore(add(e, 32), 0x1a0111ea397fe69a4b1ba7b6434bacd7)
            mstore(add(e, 64), 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab)
            ok := staticcall(gas(), 0x05, m, add(224, eLen), m, 64)
            rHi := mload(m)
            rLo := mload(add(m, 32))
        }
        if (!ok) revert BLS.BLSPrecompileFailed(BLS.MODEXP);
    }
}
