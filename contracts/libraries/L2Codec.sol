// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title L2Codec
/// @notice Byte layout of l2kit rollup data, format version 2 (docs/rollup-spec.md, issue 11):
///         the one home of the commitment header, the transfer / withdraw / deposit / forced-slot
///         readers, the amount and fee floats and the account leaf.
/// @dev A commitment as posted: postRoot(32) ‖ rest, where rest =
///      nDeposits(1) nTransfers(1) nWithdraws(1) nForced(1) feeAccount(3) [signature(48) iff
///      nTransfers + nWithdraws > 0] deposits(3 each) transfers(12 each) withdraws(9 each)
///      forced outcomes(1 each). Offsets in `Layout` are relative to the start of `rest`.
library L2Codec {
    /// @notice Format version of the rollup data (v1: ECDSA per tx; v2: one BLS aggregate).
    uint256 internal constant FORMAT_VERSION = 2;
    /// @notice Kind bytes of forced txs (`forceTransaction`): 0x02 ‖ transfer, 0x03 ‖ withdraw.
    uint8 internal constant TX_TRANSFER = 0x02;
    uint8 internal constant TX_WITHDRAW = 0x03;
    /// @notice Section entry sizes.
    uint256 internal constant DEPOSIT_LEN = 3;
    uint256 internal constant TRANSFER_LEN = 12;
    uint256 internal constant WITHDRAW_LEN = 9;
    uint256 internal constant FORCED_LEN = 1;
    /// @notice Forced tx sizes (kind byte + body).
    uint256 internal constant FORCED_TRANSFER_LEN = 1 + TRANSFER_LEN;
    uint256 internal constant FORCED_WITHDRAW_LEN = 1 + WITHDRAW_LEN;
    /// @notice Counts (4) and fee account (3) at the start of `rest`.
    uint256 internal constant REST_HEADER_LEN = 7;
    /// @notice A compressed G1 aggregate signature.
    uint256 internal constant SIGNATURE_LEN = 48;
    /// @notice Bound on deposits + transfers + withdraws + forced slots of one commitment.
    uint256 internal constant MAX_TXS = 32;
    uint256 internal constant LEAF_BYTES = 60;
    /// @notice Largest balance and amount (a decoded amount above it is MALFORMED).
    uint256 internal constant MAX_AMOUNT = type(uint128).max;

    /// @notice An account leaf: owner(20) | token(20) | balance(16) | nonce(4).
    struct Account {
        address owner;
        address token;
        uint256 balance;
        uint256 nonce;
    }

    /// @notice A commitment's counts and section offsets (relative to the start of `rest`).
    /// @param length Total length of `rest`.
    struct Layout {
        uint256 nDeposits;
        uint256 nTransfers;
        uint256 nWithdraws;
        uint256 nForced;
        uint256 feeAccount;
        uint256 deposits;
        uint256 transfers;
        uint256 withdraws;
        uint256 forced;
        uint256 length;
    }

    /// @notice value = mantissa * 10^exponent of a packed fee (16 bits: mantissa(11) ‖ exponent(5)).
    function unpackFloat(uint256 packed) internal pure returns (uint256 value) {
        // No overflow: mantissa < 2^11 (2^27 for amounts) and 10^31 < 2^103.
        assembly ("memory-safe") {
            value := mul(shr(5, packed), exp(10, and(packed, 31)))
        }
    }

    /// @notice value of a packed v2 amount (32 bits: mantissa(27) ‖ exponent(5)); may exceed
    ///         MAX_AMOUNT (at most 2^27 * 10^31 < 2^130), which the caller treats as MALFORMED.
    function unpackAmount(uint256 packed) internal pure returns (uint256) {
        return unpackFloat(packed & 0xffffffff);
    }

    /// @notice The first calldata word at `data[offset]` (zero-padded past the end of calldata).
    function word(bytes calldata data, uint256 offset) internal pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := calldataload(add(data.offset, offset))
        }
    }

    /// @notice Counts and section offsets of the `rest` starting at `data[offset]`. Does not check
    ///         bounds or the count limit: `length` is what the caller compares with the data.
    function layout(bytes calldata data, uint256 offset) internal pure returns (Layout memory h) {
        uint256 w = word(data, offset);
        h.nDeposits = w >> 248;
        h.nTransfers = (w >> 240) & 0xff;
        h.nWithdraws = (w >> 232) & 0xff;
        h.nForced = (w >> 224) & 0xff;
        h.feeAccount = (w >> 200) & 0xffffff;
        // No overflow: every count is below 256.
        unchecked {
            h.deposits = REST_HEADER_LEN + (h.nTransfers + h.nWithdraws > 0 ? SIGNATURE_LEN : 0);
            h.transfers = h.deposits + h.nDeposits * DEPOSIT_LEN;
            h.withdraws = h.transfers + h.nTransfers * TRANSFER_LEN;
            h.forced = h.withdraws + h.nWithdraws * WITHDRAW_LEN;
            h.length = h.forced + h.nForced * FORCED_LEN;
        }
    }

    /// @notice Number of slots (deposits + transfers + withdraws + forced) of a layout.
    function txCount(Layout memory h) internal pure returns (uint256) {
        return h.nDeposits + h.nTransfers + h.nWithdraws + h.nForced;
    }

    /// @notice The account index of the deposit at `data[offset]`.
    function depositAt(bytes calldata data, uint256 offset) internal pure returns (uint256 account) {
        return word(data, offset) >> 232;
    }

    /// @notice The sender index of the transfer or withdraw at `data[offset]`.
    function senderAt(bytes calldata data, uint256 offset) internal pure returns (uint256) {
        return word(data, offset) >> 232;
    }

    /// @notice The transfer at `data[offset]`: from(3) ‖ to(3) ‖ amount(4) ‖ fee(2), decoded.
    function transferAt(bytes calldata data, uint256 offset)
        internal
        pure
        returns (uint256 from, uint256 to, uint256 amount, uint256 fee)
    {
        uint256 w = word(data, offset);
        from = w >> 232;
        to = (w >> 208) & 0xffffff;
        amount = unpackAmount((w >> 176) & 0xffffffff);
        fee = unpackFloat((w >> 160) & 0xffff);
    }

    /// @notice The withdraw at `data[offset]`: from(3) ‖ amount(4) ‖ fee(2), decoded.
    function withdrawAt(bytes calldata data, uint256 offset)
        internal
        pure
        returns (uint256 from, uint256 amount, uint256 fee)
    {
        uint256 w = word(data, offset);
        from = w >> 232;
        amount = unpackAmount((w >> 200) & 0xffffffff);
        fee = unpackFloat((w >> 184) & 0xffff);
    }

    /// @notice The outcome byte at `data[offset]` (0x01 applied, 0x00 skipped, else MALFORMED).
    function outcomeAt(bytes calldata data, uint256 offset) internal pure returns (uint256) {
        return word(data, offset) >> 248;
    }

    /// @notice The first slot (in execution order: deposits, transfers, withdraws, forced) whose
    ///         value cannot be decoded (an amount above MAX_AMOUNT, an outcome byte other than 0 or
    ///         1), or type(uint256).max. This is decoding, decided before any leaf is read.
    function firstMalformed(bytes calldata rest, Layout memory h) internal pure returns (uint256) {
        // No overflow: counts below 256, offsets inside calldata.
        unchecked {
            return _firstMalformed(rest, h);
        }
    }

    function _firstMalformed(bytes calldata rest, Layout memory h) private pure returns (uint256) {
        uint256 slot = h.nDeposits;
        for (uint256 i = 0; i < h.nTransfers; ++i) {
            (,, uint256 amount,) = transferAt(rest, h.transfers + i * TRANSFER_LEN);
            if (amount > MAX_AMOUNT) return slot + i;
        }
        slot += h.nTransfers;
        for (uint256 i = 0; i < h.nWithdraws; ++i) {
            (, uint256 amount,) = withdrawAt(rest, h.withdraws + i * WITHDRAW_LEN);
            if (amount > MAX_AMOUNT) return slot + i;
        }
        slot += h.nWithdraws;
        for (uint256 i = 0; i < h.nForced; ++i) {
            if (outcomeAt(rest, h.forced + i) > 1) return slot + i;
        }
        return type(uint256).max;
    }

    /// @notice keccak256 of the 60-byte leaf preimage, or 0 for the empty account (owner 0).
    function leafHash(Account memory a) internal pure returns (bytes32) {
        if (a.owner == address(0)) return bytes32(0);
        return keccak256(abi.encodePacked(a.owner, a.token, uint128(a.balance), uint32(a.nonce)));
    }

    /// @notice Whether `a` is the empty account written canonically (all fields zero) or an
    ///         account with an owner.
    function isCanonical(Account memory a) internal pure returns (bool) {
        return a.owner != address(0) || (a.token == address(0) && a.balance == 0 && a.nonce == 0);
    }

    /// @notice Decode the 60-byte leaf at `data[offset]` (the caller checks the bounds).
    function readAccount(bytes calldata data, uint256 offset) internal pure returns (Account memory a) {
        uint256 w0 = word(data, offset);
        uint256 w1 = word(data, offset + 20);
        uint256 w2 = word(data, offset + 40);
        a.owner = address(uint160(w0 >> 96));
        a.token = address(uint160(w1 >> 96));
        a.balance = w2 >> 128;
        a.nonce = (w2 >> 96) & 0xffffffff;
    }
}
