// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BLS} from "./BLS.sol";

/// @title G1Compressed
/// @notice Decompression of a 48-byte compressed BLS12-381 G1 point (ZCash / IETF serialisation,
///         docs/bls.md §2.2) into the EIP-2537 form BLS.sol takes, with the square root supplied
///         as a hint and checked (docs/bls.md §4.2).
/// @dev First byte flags: 0x80 compressed (must be set), 0x40 infinity, 0x20 sign of y (set iff
///      y > (p - 1) / 2, i.e. y > p - y). x is the remaining 381 bits and must be < p. On
///      E: y² = x³ + 4 a square root costs a MODEXP with a 381-bit exponent, which EIP-7883
///      (Osaka) prices at about 81,000 gas. The caller instead passes the hint h, a function of
///      the 48 bytes alone (offchain.bls.hint.decompression_hint):
///      - the point's y (the root of x³ + 4 with the flagged sign) when x is on the curve;
///      - the smaller square root of -(x³ + 4) when x³ + 4 is not a square (p ≡ 3 mod 4, so -1
///        is not a square and a non-zero a is a non-square exactly when -a is a square): the
///        proof that the bytes decompress to nothing;
///      - zero otherwise (bad flags, infinity, x ≥ p, and a = 0 where y = 0).
///      Any other hint reverts G1BadHint: a wrong hint can make a dispute revert, never change
///      what the bytes decompress to. Cost: two MODEXPs (x³ and h²), 1,000 gas on Osaka. The
///      result is on the curve but not necessarily in the subgroup: the caller checks that with
///      BLS.isValidG1.
library G1Compressed {
    /// @notice The hint is not the one the compressed bytes call for (see the library's notes).
    /// @param hintHi The hint's high word.
    /// @param hintLo The hint's low word.
    error G1BadHint(uint256 hintHi, uint256 hintLo);

    /// @notice Decompress `data` (48 bytes) with the hint (hHi, hLo) for its square root.
    /// @param data The compressed point.
    /// @param hHi The hint's high word (below 2^128).
    /// @param hLo The hint's low word.
    /// @return ok False for a wrong length, bad flags, a non-canonical x (>= p) or an x off the
    ///         curve (proven by the hint); the point is then meaningless. Reverts G1BadHint when
    ///         the hint is not the one `data` calls for.
    /// @return point The point (all zero for the identity).
    function decompress(bytes calldata data, uint256 hHi, uint256 hLo)
        internal
        view
        returns (bool ok, BLS.G1Point memory point)
    {
        uint256 xHi;
        uint256 xLo;
        uint256 flags;
        (ok, flags, xHi, xLo) = _parse(data);
        if (!ok) {
            // Nothing to prove with a root: the only hint is zero.
            if (hHi | hLo != 0) revert G1BadHint(hHi, hLo);
            return (flags == 6 && data.length == 48 && xHi | xLo == 0, point);
        }
        if (!_lessThanP(hHi, hLo)) revert G1BadHint(hHi, hLo);
        // a = x³ + 4 mod p (x³ < p, so one conditional subtraction suffices).
        (uint256 aHi, uint256 aLo) = _modexp(xHi, xLo, 3);
        unchecked {
            uint256 lo = aLo + 4;
            aHi += lo < aLo ? 1 : 0;
            aLo = lo;
        }
        if (!_lessThanP(aHi, aLo)) (aHi, aLo) = _subP(aHi, aLo);
        (uint256 sHi, uint256 sLo) = _modexp(hHi, hLo, 2);
        bool largest = _greaterThanNeg(hHi, hLo);
        if (sHi == aHi && sLo == aLo) {
            // h is a root of a: it must be the one with the flagged sign. For a = 0 the only root
            // is 0, which is "not largest": a set sign flag is then no point.
            if (aHi | aLo == 0) return (flags & 1 == 0, BLS.G1Point(xHi, xLo, 0, 0));
            if (largest != (flags & 1 == 1)) revert G1BadHint(hHi, hLo);
            return (true, BLS.G1Point(xHi, xLo, hHi, hLo));
        }
        // Otherwise h must be the smaller root of -a (a != 0): x³ + 4 is not a square.
        if (aHi | aLo == 0 || largest) revert G1BadHint(hHi, hLo);
        (uint256 nHi, uint256 nLo) = _neg(aHi, aLo);
        if (sHi != nHi || sLo != nLo) revert G1BadHint(hHi, hLo);
        return (false, point);
    }

    /// @dev The flags (top 3 bits) and x of a 48-byte compressed point; ok only when a root is
    ///      needed (length 48, compressed, not infinity, x < p).
    function _parse(bytes calldata data) private pure returns (bool ok, uint256 flags, uint256 xHi, uint256 xLo) {
        if (data.length != 48) return (false, 0, 0, 0);
        uint256 w0;
        assembly ("memory-safe") {
            w0 := calldataload(data.offset)
            xLo := calldataload(add(data.offset, 16))
        }
        flags = w0 >> 253;
        // Top 16 bytes of the 48-byte x (flags cleared), then the low 32 bytes.
        xHi = (w0 >> 128) & ((1 << 125) - 1);
        ok = flags & 4 != 0 && flags & 2 == 0 && _lessThanP(xHi, xLo);
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

    /// @dev base^e mod p through MODEXP (base and p 64 bytes, a one-byte exponent e).
    function _modexp(uint256 bHi, uint256 bLo, uint256 e) private view returns (uint256 rHi, uint256 rLo) {
        bool ok;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 64)
            mstore(add(m, 32), 1)
            mstore(add(m, 64), 64)
            mstore(add(m, 96), bHi)
            mstore(add(m, 128), bLo)
            mstore8(add(m, 160), e)
            mstore(add(m, 161), 0x1a0111ea397fe69a4b1ba7b6434bacd7)
            mstore(add(m, 193), 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab)
            ok := staticcall(gas(), 0x05, m, 225, m, 64)
            rHi := mload(m)
            rLo := mload(add(m, 32))
        }
        if (!ok) revert BLS.BLSPrecompileFailed(BLS.MODEXP);
    }
}
