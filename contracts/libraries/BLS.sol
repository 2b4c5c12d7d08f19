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
        if (dst.length == 0 || dst.length > 255) revert BLSInvalidDst(dst.length);
        bytes memory dstPrime = abi.encodePacked(dst, uint8(dst.length));
        // msg_prime = Z_pad (64 zero bytes) || msg || I2OSP(128, 2) || I2OSP(0, 1) || DST_prime
        bytes32 b0 = sha256(abi.encodePacked(bytes32(0), bytes32(0), message, uint16(128), uint8(0), dstPrime));
        bytes32 b1 = sha256(abi.encodePacked(b0, uint8(1), dstPrime));
        bytes32 b2 = sha256(abi.encodePacked(b0 ^ b1, uint8(2), dstPrime));
        bytes32 b3 = sha256(abi.encodePacked(b0 ^ b2, uint8(3), dstPrime));
        bytes32 b4 = sha256(abi.encodePacked(b0 ^ b3, uint8(4), dstPrime));
        uniform = abi.encodePacked(b1, b2, b3, b4);
    }

    /// @notice RFC 9380 hash_to_field for G1 (count = 2): each 64-byte chunk of the expanded message
    ///         read big-endian and reduced mod p by the MODEXP precompile (base^1 mod p).
    /// @param message The message.
    /// @param dst The domain separation tag, 1 to 255 bytes.
    /// @return u0 The first field element, 64-byte EIP-2537 encoding.
    /// @return u1 The second field element, 64-byte EIP-2537 encoding.
    function hashToField(bytes memory message, bytes memory dst)
        internal
        view
        returns (bytes memory u0, bytes memory u1)
    {
        bytes memory uniform = expandMessageXmd(message, dst);
        u0 = _reduce(uniform, 0);
        u1 = _reduce(uniform, 64);
    }

    /// @notice RFC 9380 hash_to_curve, suite BLS12381G1_XMD:SHA-256_SSWU_RO_, under tag `dst`:
    ///         map_to_curve(u0) + map_to_curve(u1), each through MAP_FP_TO_G1 (which clears the
    ///         cofactor; clearing before the sum equals clearing after it, the map being linear).
    /// @param message The message.
    /// @param dst The domain separation tag, 1 to 255 bytes.
    /// @return h The point in G1.
    function hashToG1(bytes memory message, bytes memory dst) internal view returns (G1Point memory h) {
        (bytes memory u0, bytes memory u1) = hashToField(message, dst);
        G1Point memory q0 = _mapToG1(u0);
        G1Point memory q1 = _mapToG1(u1);
        h = addG1(q0, q1);
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
    ///      registration) or gas runs out.
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
        if (n != pubkeys.length) revert BLSLengthMismatch(n, pubkeys.length);
        G1Point[] memory hashes = new G1Point[](n);
        for (uint256 i = 0; i < n; ++i) {
            hashes[i] = hashToG1(messages[i], dst);
        }
        return verifyAggregateHashed(hashes, pubkeys, signature);
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
        // Input: (n + 1) pairs of G1 (128 bytes) || G2 (256 bytes).
        bytes memory input = new bytes((n + 1) * 384);
        assembly ("memory-safe") {
            let dst := add(input, 32)
            mcopy(dst, signature, 128)
            mstore(add(dst, 128), NEG_G2_XC0_HI)
            mstore(add(dst, 160), NEG_G2_XC0_LO)
            mstore(add(dst, 192), NEG_G2_XC1_HI)
            mstore(add(dst, 224), NEG_G2_XC1_LO)
            mstore(add(dst, 256), NEG_G2_YC0_HI)
            mstore(add(dst, 288), NEG_G2_YC0_LO)
            mstore(add(dst, 320), NEG_G2_YC1_HI)
            mstore(add(dst, 352), NEG_G2_YC1_LO)
        }
        for (uint256 i = 0; i < n; ++i) {
            G1Point memory h = hashes[i];
            G2Point memory pk = pubkeys[i];
            assembly ("memory-safe") {
                let at := add(add(input, 32), mul(add(i, 1), 384))
                mcopy(at, h, 128)
                mcopy(add(at, 128), pk, 256)
            }
        }
        bool ok;
        uint256 result;
        assembly ("memory-safe") {
            ok := staticcall(gas(), 0x0f, add(input, 32), mload(input), 0x00, 0x20)
            result := mload(0x00)
        }
        if (!ok) revert BLSPrecompileFailed(PAIRING_CHECK);
        return result == 1;
    }

    /// @dev The 64 bytes of `uniform` at `offset`, read big-endian, mod p, through MODEXP with
    ///      exponent 1: input is len(base) = 64, len(exp) = 1, len(mod) = 64, base, 0x01, p.
    ///      The 64-byte result is already the EIP-2537 Fp encoding.
    function _reduce(bytes memory uniform, uint256 offset) private view returns (bytes memory fp) {
        fp = new bytes(64);
        bool ok;
        assembly ("memory-safe") {
            let input := mload(0x40)
            mstore(input, 64)
            mstore(add(input, 32), 1)
            mstore(add(input, 64), 64)
            mcopy(add(input, 96), add(add(uniform, 32), offset), 64)
            mstore8(add(input, 160), 1)
            mstore(add(input, 161), P_HI)
            mstore(add(input, 193), P_LO)
            ok := staticcall(gas(), 0x05, input, 225, add(fp, 32), 64)
        }
        if (!ok) revert BLSPrecompileFailed(MODEXP);
    }

    /// @dev MAP_FP_TO_G1 of a canonical 64-byte Fp element.
    function _mapToG1(bytes memory fp) private view returns (G1Point memory q) {
        bool ok;
        assembly ("memory-safe") {
            ok := staticcall(gas(), 0x10, add(fp, 32), 64, q, 128)
        }
        if (!ok) revert BLSPrecompileFailed(MAP_FP_TO_G1);
    }

    /// @dev Revert unless a call with `stipend` gas would really get it (63/64 rule, plus margin),
    ///      so a failing check means a bad point and never a short call.
    function _requireGas(uint256 stipend) private view {
        uint256 needed = (stipend * 64) / 63 + 2_000;
        if (gasleft() < needed) revert BLSInsufficientGas(gasleft(), needed);
    }
}
