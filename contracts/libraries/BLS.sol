// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title BLS
/// @notice BLS12-381 signatures over the EIP-2537 precompiles: signatures and message hashes in
///         G1, public keys in G2 (one G1 hash-to-curve per message, the cheap side on chain).
///         Hash-to-curve is RFC 9380 `BLS12381G1_XMD:SHA-256_SSWU_RO_` with a caller-given tag.
/// @dev Point encodings are EIP-2537's, held in memory word for word as the precompiles read them:
///      an Fp element is 64 bytes big-endian whose first 16 bytes are zero, so it fills two words,
///      `hi` (the top 16 bytes of the 48-byte value, below 2**128) and `lo` (the low 32 bytes).
///      G1 = x || y (128 bytes); G2 = x.c0 || x.c1 || y.c0 || y.c1 (256 bytes), where an Fp2
///      element is c0 + c1·u. The point at infinity is all zeros. See docs/bls.md.
///
///      What the precompiles check, and what this library adds:
///      - every precompile rejects (the call fails and burns the gas it was given) an Fp word that
///        is not canonical (top 16 bytes non-zero, or value >= p) and a point not on its curve;
///      - G1MSM, G2MSM and PAIRING_CHECK also reject points outside the r-order subgroup;
///        G1ADD, G2ADD do not check the subgroup;
///      - MAP_FP_TO_G1 includes the 11-isogeny and the cofactor clearing (RFC 9380 map_to_curve +
///        clear_cofactor), so its output is in G1.
///      A signature is untrusted input: `isValidG1` checks it with a G1MSM by 1 under a fixed gas
///      stipend, so a malformed signature makes `verifyAggregate` return false (a fraud proof can
///      rely on that) instead of reverting with the caller's gas burnt. Public keys must already be
///      valid (in G2, not the identity): `BLSKeyRegistry` checks that once, at registration.
///
///      Gas (Prague, bench/bls.py): hashToG1 ≈ 16,000 (precompiles alone ≈ 13,400);
///      verifyAggregate ≈ 84,700 + 49,600 per message (n = 1: 134,285; n = 64: 3,258,520).
library BLS {
    /// @notice A G1 point in EIP-2537 encoding (four words: x.hi, x.lo, y.hi, y.lo).
    struct G1Point {
        uint256 xHi;
        uint256 xLo;
        uint256 yHi;
        uint256 yLo;
    }

    /// @notice A G2 point in EIP-2537 encoding (eight words: x.c0, x.c1, y.c0, y.c1, each hi, lo).
    struct G2Point {
        uint256 xc0Hi;
        uint256 xc0Lo;
        uint256 xc1Hi;
        uint256 xc1Lo;
        uint256 yc0Hi;
        uint256 yc0Lo;
        uint256 yc1Hi;
        uint256 yc1Lo;
    }

    /// @notice A precompile call failed although its inputs were checked (out of gas, or a
    ///         public key that was not validated before).
    error BLSPrecompileFailed(address precompile);
    /// @notice A domain separation tag must be 1 to 255 bytes long (RFC 9380 §3.1).
    error BLSInvalidDst(uint256 length);
    /// @notice verifyAggregate got a different number of messages and public keys.
    error BLSLengthMismatch(uint256 messages, uint256 pubkeys);
    /// @notice verifyAggregate needs at least one message.
    error BLSNoMessages();
    /// @notice Too little gas left to tell a malformed point from an out-of-gas failure.
    error BLSInsufficientGas(uint256 left, uint256 needed);

    address internal constant G1ADD = address(0x0b);
    address internal constant G1MSM = address(0x0c);
    address internal constant G2ADD = address(0x0d);
    address internal constant G2MSM = address(0x0e);
    address internal constant PAIRING_CHECK = address(0x0f);
    address internal constant MAP_FP_TO_G1 = address(0x10);
    address internal constant MAP_FP2_TO_G2 = address(0x11);
    address internal constant MODEXP = address(0x05);
    address internal constant SHA256 = address(0x02);

    /// @notice The base field modulus p, split as the precompiles read it (hi below 2**128).
    uint256 internal constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 internal constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;

    /// @notice The negated G2 generator -g2 (y negated), the constant first pair of every check.
    uint256 internal constant NEG_G2_XC0_HI = 0x024aa2b2f08f0a91260805272dc51051;
    uint256 internal constant NEG_G2_XC0_LO = 0xc6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8;
    uint256 internal constant NEG_G2_XC1_HI = 0x13e02b6052719f607dacd3a088274f65;
    uint256 internal constant NEG_G2_XC1_LO = 0x596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e;
    uint256 internal constant NEG_G2_YC0_HI = 0x0d1b3cc2c7027888be51d9ef691d77bc;
    uint256 internal constant NEG_G2_YC0_LO = 0xb679afda66c73f17f9ee3837a55024f78c71363275a75d75d86bab79f74782aa;
    uint256 internal constant NEG_G2_YC1_HI = 0x13fa4d4a0ad8b1ce186ed5061789213d;
    uint256 internal constant NEG_G2_YC1_LO = 0x993923066dddaf1040bc3ff59f825c78df74f2d75467e25e0f55f8a00fa030ed;

    /// @notice Gas handed to a G1MSM / G2MSM by 1 when it only checks a point (EIP-2537 prices
    ///         12,000 and 22,500); a failure then burns at most this much.
    uint256 internal constant G1_CHECK_GAS = 15_000;
    uint256 internal constant G2_CHECK_GAS = 30_000;

    /// @notice RFC 9380 expand_message_xmd with SHA-256 for the 128 bytes hash_to_field needs for
    ///         two Fp elements (L = 64 bytes each, k = 128).
    /// @param message The message.
    /// @param dst The domain separation tag, 1 to 255 bytes.
    /// @return uniform 128 pseudo-random bytes b_1 || b_2 || b_3 || b_4.
    function expandMessageXmd(bytes memory message, bytes memory dst) internal view returns (bytes memory uniform) {
        uniform = new bytes(128);
        uint256 scratch = _scratch();
        _expand(message, dst, scratch);
        assembly ("memory-safe") {
            mcopy(add(uniform, 32), scratch, 128)
        }
    }

    /// @notice RFC 9380 hash_to_field for G1 (count = 2): each 64-byte half of the expanded
    ///         message read big-endian and reduced mod p (reduce512, no precompile).
    /// @param message The message.
    /// @param dst The domain separation tag, 1 to 255 bytes.
    /// @return u0 The first field element, 64-byte EIP-2537 encoding.
    /// @return u1 The second field element, 64-byte EIP-2537 encoding.
    function hashToField(bytes memory message, bytes memory dst)
        internal
        view
        returns (bytes memory u0, bytes memory u1)
    {
        u0 = new bytes(64);
        u1 = new bytes(64);
        uint256 scratch = _scratch();
        _expand(message, dst, scratch);
        _reduceInto(scratch, _ptr(u0));
        _reduceInto(scratch + 64, _ptr(u1));
    }

    /// @notice RFC 9380 hash_to_curve, suite BLS12381G1_XMD:SHA-256_SSWU_RO_, under tag `dst`:
    ///         map_to_curve(u0) + map_to_curve(u1), each through MAP_FP_TO_G1, which also clears
    ///         the cofactor: clearing is multiplication by h_eff, so clearing each term first
    ///         gives the same point as clearing the sum once.
    /// @param message The message.
    /// @param dst The domain separation tag, 1 to 255 bytes.
    /// @return h The point in G1.
    function hashToG1(bytes memory message, bytes memory dst) internal view returns (G1Point memory h) {
        uint256 out;
        assembly ("memory-safe") {
            out := h
        }
        _hashToG1Into(message, dst, out);
    }

    /// @notice G1 point addition through G1ADD (on-curve checked by the precompile, no subgroup check).
    /// @param a The first point.
    /// @param b The second point.
    /// @return c a + b.
    function addG1(G1Point memory a, G1Point memory b) internal view returns (G1Point memory c) {
        bool ok;
        assembly ("memory-safe") {
            let input := mload(0x40)
            mcopy(input, a, 128)
            mcopy(add(input, 128), b, 128)
            ok := staticcall(gas(), 0x0b, input, 256, c, 128)
        }
        if (!ok) revert BLSPrecompileFailed(G1ADD);
    }

    /// @notice Whether `point` is a canonical EIP-2537 G1 encoding of a point in the r-order
    ///         subgroup (the identity included): a G1MSM by 1 under a fixed stipend.
    /// @param point The point to check.
    /// @return valid True when the precompile accepts it.
    function isValidG1(G1Point memory point) internal view returns (bool valid) {
        _requireGas(G1_CHECK_GAS);
        assembly ("memory-safe") {
            let input := mload(0x40)
            mcopy(input, point, 128)
            mstore(add(input, 128), 1)
            valid := staticcall(G1_CHECK_GAS, 0x0c, input, 160, input, 128)
        }
    }

    /// @notice Whether `point` is a canonical EIP-2537 G2 encoding of a point in the r-order
    ///         subgroup (the identity included): a G2MSM by 1 under a fixed stipend.
    /// @param point The point to check.
    /// @return valid True when the precompile accepts it.
    function isValidG2(G2Point memory point) internal view returns (bool valid) {
        _requireGas(G2_CHECK_GAS);
        assembly ("memory-safe") {
            let input := mload(0x40)
            mcopy(input, point, 256)
            mstore(add(input, 256), 1)
            valid := staticcall(G2_CHECK_GAS, 0x0e, input, 288, input, 256)
        }
    }

    /// @notice Whether `point` is the G2 identity (all zeros), which must never be a public key:
    ///         e(H(m), 0) = 1 for every m, so any signature would verify for it.
    /// @param point The point.
    /// @return True for the identity.
    function isInfinityG2(G2Point memory point) internal pure returns (bool) {
        return (point.xc0Hi | point.xc0Lo | point.xc1Hi | point.xc1Lo | point.yc0Hi | point.yc0Lo | point.yc1Hi
                | point.yc1Lo) == 0;
    }

    /// @notice Verify an aggregate signature over distinct messages: one PAIRING_CHECK over n + 1
    ///         pairs, e(sig, -g2) · Π e(H(m_i), pk_i) == 1.
    /// @dev Returns false (does not revert) for a malformed or out-of-subgroup signature. Reverts
    ///      with BLSPrecompileFailed if a public key is not a valid G2 point (keys are checked at
    ///      registration) or gas runs out. The loop runs once per message: the caller bounds n
    ///      (a dispute by the commitment size; about 51,000 gas per message).
    /// @param messages The signed messages, one per signer.
    /// @param pubkeys The signers' public keys in G2, same order.
    /// @param signature The aggregate signature in G1.
    /// @param dst The domain separation tag of the hash-to-curve, 1 to 255 bytes.
    /// @return True when the aggregate is valid.
    function verifyAggregate(
        bytes[] memory messages,
        G2Point[] memory pubkeys,
        G1Point memory signature,
        bytes memory dst
    ) internal view returns (bool) {
        uint256 n = messages.length;
        if (n == 0) revert BLSNoMessages();
        if (n != pubkeys.length) revert BLSLengthMismatch(n, pubkeys.length);
        if (!isValidG1(signature)) return false;
        bytes memory input = _pairingInput(signature, n);
        for (uint256 i = 0; i < n; ++i) {
            uint256 at = _ptr(input) + (i + 1) * 384;
            _hashToG1Into(messages[i], dst, at);
            G2Point memory pk = pubkeys[i];
            assembly ("memory-safe") {
                mcopy(add(at, 128), pk, 256)
            }
        }
        return _pairingCheck(input);
    }

    /// @notice verifyAggregate with the messages already hashed to G1 (points from hashToG1).
    /// @param hashes H(m_i) for each message, in G1.
    /// @param pubkeys The signers' public keys in G2, same order.
    /// @param signature The aggregate signature in G1.
    /// @return True when the aggregate is valid.
    function verifyAggregateHashed(G1Point[] memory hashes, G2Point[] memory pubkeys, G1Point memory signature)
        internal
        view
        returns (bool)
    {
        uint256 n = hashes.length;
        if (n == 0) revert BLSNoMessages();
        if (n != pubkeys.length) revert BLSLengthMismatch(n, pubkeys.length);
        if (!isValidG1(signature)) return false;
        bytes memory input = _pairingInput(signature, n);
        for (uint256 i = 0; i < n; ++i) {
            G1Point memory h = hashes[i];
            G2Point memory pk = pubkeys[i];
            assembly ("memory-safe") {
                let at := add(add(input, 32), mul(add(i, 1), 384))
                mcopy(at, h, 128)
                mcopy(add(at, 128), pk, 256)
            }
        }
        return _pairingCheck(input);
    }

    /// @dev The PAIRING_CHECK input for n + 1 pairs of G1 (128 bytes) || G2 (256 bytes), the first
    ///      pair (signature, -g2) filled in.
    function _pairingInput(G1Point memory signature, uint256 n) private pure returns (bytes memory input) {
        input = new bytes((n + 1) * 384);
        assembly ("memory-safe") {
            let at := add(input, 32)
            mcopy(at, signature, 128)
            mstore(add(at, 128), NEG_G2_XC0_HI)
            mstore(add(at, 160), NEG_G2_XC0_LO)
            mstore(add(at, 192), NEG_G2_XC1_HI)
            mstore(add(at, 224), NEG_G2_XC1_LO)
            mstore(add(at, 256), NEG_G2_YC0_HI)
            mstore(add(at, 288), NEG_G2_YC0_LO)
            mstore(add(at, 320), NEG_G2_YC1_HI)
            mstore(add(at, 352), NEG_G2_YC1_LO)
        }
    }

    /// @dev PAIRING_CHECK over `input`; reverts if the precompile fails (inputs were checked, so
    ///      only a bad unchecked public key or a lack of gas gets here).
    function _pairingCheck(bytes memory input) private view returns (bool) {
        bool ok;
        uint256 result;
        assembly ("memory-safe") {
            ok := staticcall(gas(), 0x0f, add(input, 32), mload(input), 0x00, 0x20)
            result := mload(0x00)
        }
        if (!ok) revert BLSPrecompileFailed(PAIRING_CHECK);
        return result == 1;
    }

    /// @dev hash_to_curve written as 128 bytes at memory address `out`. Scratch memory lies
    ///      above the free memory pointer and is not kept.
    function _hashToG1Into(bytes memory message, bytes memory dst, uint256 out) private view {
        uint256 scratch = _scratch();
        _expand(message, dst, scratch);
        // MAP_FP_TO_G1 inputs and the G1ADD input share one 256-byte area after b_1..b_4.
        uint256 maps = scratch + 128;
        _reduceInto(scratch, maps);
        _reduceInto(scratch + 64, maps + 64);
        bool ok;
        assembly ("memory-safe") {
            // Map u1 first into the upper half, then u0 into the lower half (u0 is read before
            // the lower half is overwritten: the output starts where u0 sits).
            ok := staticcall(gas(), 0x10, add(maps, 64), 64, add(maps, 128), 128)
            ok := and(ok, staticcall(gas(), 0x10, maps, 64, maps, 128))
        }
        if (!ok) revert BLSPrecompileFailed(MAP_FP_TO_G1);
        assembly ("memory-safe") {
            ok := staticcall(gas(), 0x0b, maps, 256, out, 128)
        }
        if (!ok) revert BLSPrecompileFailed(G1ADD);
    }

    /// @dev Scratch memory for hash-to-field, above the free memory pointer (not kept):
    ///      b_1 ‖ b_2 ‖ b_3 ‖ b_4 (128 bytes), then 256 bytes for the maps, then the SHA-256 inputs.
    function _scratch() private pure returns (uint256 scratch) {
        assembly ("memory-safe") {
            scratch := mload(0x40)
        }
    }

    /// @dev expand_message_xmd(message, dst, 128), writing b_1 ‖ b_2 ‖ b_3 ‖ b_4 at `scratch`.
    ///      The SHA-256 inputs are built from scratch + 384 on.
    function _expand(bytes memory message, bytes memory dst, uint256 scratch) private view {
        uint256 dstLen = dst.length;
        if (dstLen == 0 || dstLen > 255) revert BLSInvalidDst(dstLen);
        bool ok;
        assembly ("memory-safe") {
            let p := add(scratch, 384)
            // msg_prime = Z_pad (64 zero bytes) || msg || I2OSP(128, 2) || I2OSP(0, 1) || DST_prime
            mstore(p, 0)
            mstore(add(p, 32), 0)
            let mlen := mload(message)
            mcopy(add(p, 64), add(message, 32), mlen)
            let q := add(add(p, 64), mlen)
            mstore8(q, 0x00)
            mstore8(add(q, 1), 0x80)
            mstore8(add(q, 2), 0x00)
            mcopy(add(q, 3), add(dst, 32), dstLen)
            mstore8(add(add(q, 3), dstLen), dstLen)
            ok := staticcall(gas(), 0x02, p, add(add(mlen, 68), dstLen), 0x00, 32)
            let b0 := mload(0x00)
            // b_i = H(strxor(b0, b_(i-1)) || I2OSP(i, 1) || DST_prime), with b_0 as "b_(i-1)" = 0 for i = 1
            let r := and(add(add(q, add(dstLen, 4)), 31), not(31))
            mcopy(add(r, 33), add(dst, 32), dstLen)
            mstore8(add(add(r, 33), dstLen), dstLen)
            let blen := add(dstLen, 34)
            let prev := 0
            for { let i := 1 } lt(i, 5) { i := add(i, 1) } {
                mstore(r, xor(b0, prev))
                mstore8(add(r, 32), i)
                ok := and(ok, staticcall(gas(), 0x02, r, blen, 0x00, 32))
                prev := mload(0x00)
                mstore(add(scratch, shl(5, sub(i, 1))), prev)
            }
        }
        if (!ok) revert BLSPrecompileFailed(SHA256);
    }

    /// @dev The 64 bytes at `at`, read big-endian, reduced mod p, written as a 64-byte EIP-2537
    ///      Fp encoding at `out` (which may be `at`).
    function _reduceInto(uint256 at, uint256 out) private pure {
        uint256 hi;
        uint256 lo;
        assembly ("memory-safe") {
            hi := mload(at)
            lo := mload(add(at, 32))
        }
        (hi, lo) = reduce512(hi, lo);
        assembly ("memory-safe") {
            mstore(out, hi)
            mstore(add(out, 32), lo)
        }
    }

    /// @notice hi · 2^256 + lo mod p, in the two-word form of an Fp element (rHi < 2^128), in
    ///         plain arithmetic (no MODEXP: since Osaka, EIP-7883, a MODEXP costs at least 500 gas).
    /// @dev Two quotient estimates, each a lower bound, then at most two subtractions of p.
    ///      Write p = P_HI · 2^256 + P_LO (P_HI ≥ 2^124, p ≥ 2^380) and v = hi · 2^256 + lo.
    ///      1. q = hi / (P_HI + 1): (P_HI + 1) · 2^256 > p, so q · p ≤ v; and v/p − q < 2^8 + 2,
    ///         so r = v − q · p < 2^390. q · p's high word is at most hi (no overflow).
    ///      2. t = r >> 253 (< 2^137), d = (p >> 253) + 1 > p / 2^253: q = t / d ≤ r / p, and
    ///         r / p − q < 2 (d's relative error is below 2^-127 and q < 2^10), so r − q · p < 2p.
    ///      The 512-bit products q · P_LO come from mul and mulmod(·, ·, 2^256 − 1).
    ///      Differential tests: tests/bls/test_reduce.py (Python integers) and the RFC 9380
    ///      hash_to_field vectors.
    /// @param hi The high word.
    /// @param lo The low word.
    /// @return rHi The high word of the result (< 2^128).
    /// @return rLo The low word of the result.
    function reduce512(uint256 hi, uint256 lo) internal pure returns (uint256 rHi, uint256 rLo) {
        assembly ("memory-safe") {
            // P_LO once on the stack (the optimizer would otherwise copy it from code per use)
            let pLo := P_LO
            // 1. q = hi / (P_HI + 1); (hi, lo) -= q * p
            let q := div(hi, 0x1a0111ea397fe69a4b1ba7b6434bacd8)
            let ql := mul(q, pLo)
            let mm := mulmod(q, pLo, not(0))
            hi := sub(sub(hi, add(sub(sub(mm, ql), lt(mm, ql)), mul(q, P_HI))), lt(lo, ql))
            lo := sub(lo, ql)
            // 2. q = (r >> 253) / ((p >> 253) + 1); (hi, lo) -= q * p
            q := div(or(shl(3, hi), shr(253, lo)), 0xd0088f51cbff34d258dd3db21a5d66bc)
            ql := mul(q, pLo)
            mm := mulmod(q, pLo, not(0))
            hi := sub(sub(hi, add(sub(sub(mm, ql), lt(mm, ql)), mul(q, P_HI))), lt(lo, ql))
            lo := sub(lo, ql)
            // 3. at most two subtractions of p (r < 2p)
            if or(gt(hi, P_HI), and(eq(hi, P_HI), iszero(lt(lo, pLo)))) {
                hi := sub(sub(hi, P_HI), lt(lo, pLo))
                lo := sub(lo, pLo)
            }
            if or(gt(hi, P_HI), and(eq(hi, P_HI), iszero(lt(lo, pLo)))) {
                hi := sub(sub(hi, P_HI), lt(lo, pLo))
                lo := sub(lo, pLo)
            }
            rHi := hi
            rLo := lo
        }
    }

    /// @dev The memory address of a bytes array's first byte.
    function _ptr(bytes memory data) private pure returns (uint256 p) {
        assembly ("memory-safe") {
            p := add(data, 32)
        }
    }

    /// @dev Revert unless a call with `stipend` gas would really get it (63/64 rule, plus margin),
    ///      so a failing check means a bad point and never a short call.
    function _requireGas(uint256 stipend) private view {
        uint256 needed = (stipend * 64) / 63 + 2_000;
        if (gasleft() < needed) revert BLSInsufficientGas(gasleft(), needed);
    }
}
