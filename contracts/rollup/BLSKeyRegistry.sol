// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BLS} from "../libraries/BLS.sol";

/// @title BLSKeyRegistry
/// @notice Where an L1 address registers the BLS12-381 public key (G2) that signs its L2
///         transactions, and rotates it. The registry keeps every key an address ever had, each
///         with the first block it is valid in, so a dispute checks a batch against the key that
///         was valid when the batch was posted, whatever happened since.
/// @dev INVARIANT: the key valid for `owner` at any block b <= block.number never changes: a new
///      key takes effect `activationDelay` (>= 1) blocks after it is registered, and only keys
///      not yet in effect can be replaced. Only the key hash (keccak256 of its 256-byte EIP-2537
///      encoding) and its first block are stored (two slots); the full key is in the
///      `KeyRegistered` event and is passed back as calldata by whoever needs it, checked
///      against the hash (256 calldata bytes cost less than eight cold storage reads).
///      No proof of possession: every signed message holds its sender's index and nonce, so no
///      two signers in one aggregate sign the same message and rogue keys gain nothing (see
///      docs/bls.md, "Proof of possession"). A key must be a valid G2 point in the subgroup and
///      not the identity, checked here once so that verification can trust registered keys.
contract BLSKeyRegistry {
    /// @notice One entry of an address's key history.
    /// @param keyHash keccak256 of the key's 256-byte EIP-2537 encoding.
    /// @param fromBlock The first block in which the key is valid.
    struct KeyRecord {
        bytes32 keyHash;
        uint64 fromBlock;
    }

    /// @notice The key is not a canonical encoding of a point of the G2 subgroup.
    error InvalidKey();
    /// @notice The identity is never a key: any signature would verify for it.
    error IdentityKey();
    /// @notice The key is already the newest key of this address.
    error KeyUnchanged();
    /// @notice The activation delay must be at least one block.
    error ZeroActivationDelay();
    /// @notice The address has no key valid at that block.
    error NoKeyAt(address owner, uint256 blockNumber);
    /// @notice The key passed in is not the one registered for that address at that block.
    error KeyMismatch(address owner, uint256 blockNumber);

    /// @notice `owner` registered `key`, valid from block `fromBlock` on (replacing, if it was
    ///         not yet in effect, the key that was pending for the same block).
    /// @param owner The L1 address.
    /// @param index The position of the key in the owner's history (0 for the first key).
    /// @param fromBlock The first block in which the key is valid.
    /// @param keyHash keccak256 of the key's encoding.
    /// @param key The key, EIP-2537 encoding.
    event KeyRegistered(
        address indexed owner, uint256 index, uint64 fromBlock, bytes32 keyHash, BLS.G2Point key
    );

    /// @notice Blocks between a registration and the first block the key is valid in.
    uint64 public immutable activationDelay;

    mapping(address owner => KeyRecord[] history) internal _history;

    /// @notice Deploy a registry.
    /// @param delay Blocks from registration to validity (>= 1; the batcher stops accepting
    ///        transactions under the old key when it sees a rotation pending).
    constructor(uint64 delay) {
        if (delay == 0) revert ZeroActivationDelay();
        activationDelay = delay;
    }

    /// @notice Register a first key, or rotate to a new one, for msg.sender. The key takes effect
    ///         `activationDelay` blocks from now; a second registration before then replaces the
    ///         pending one.
    /// @param key The public key, EIP-2537 encoding of a G2 subgroup point other than the identity.
    function register(BLS.G2Point calldata key) external {
        BLS.G2Point memory k = key;
        if (BLS.isInfinityG2(k)) revert IdentityKey();
        if (!BLS.isValidG2(k)) revert InvalidKey();
        bytes32 keyHash = hashKey(k);
        KeyRecord[] storage history = _history[msg.sender];
        uint64 fromBlock = uint64(block.number) + activationDelay;
        uint256 n = history.length;
        if (n > 0 && history[n - 1].keyHash == keyHash) revert KeyUnchanged();
        uint256 index;
        if (n > 0 && history[n - 1].fromBlock == fromBlock) {
            // Not in effect yet (fromBlock > block.number), so nothing can rely on it.
            index = n - 1;
            history[index].keyHash = keyHash;
        } else {
            index = n;
            history.push(KeyRecord(keyHash, fromBlock));
        }
        emit KeyRegistered(msg.sender, index, fromBlock, keyHash, key);
    }

    /// @notice The hash a key is stored under.
    /// @param key The key.
    /// @return keccak256 of its 256-byte encoding.
    function hashKey(BLS.G2Point memory key) public pure returns (bytes32) {
        return keccak256(abi.encode(key));
    }

    /// @notice The number of keys `owner` has registered.
    /// @param owner The L1 address.
    /// @return The length of its history.
    function keyCount(address owner) external view returns (uint256) {
        return _history[owner].length;
    }

    /// @notice One entry of `owner`'s history.
    /// @param owner The L1 address.
    /// @param index The position in the history.
    /// @return The record.
    function keyRecord(address owner, uint256 index) external view returns (KeyRecord memory) {
        return _history[owner][index];
    }

    /// @notice The hash of the key valid for `owner` at `blockNumber` (binary search over the
    ///         history, O(log n)).
    /// @param owner The L1 address.
    /// @param blockNumber The block (e.g. the one a batch was posted in).
    /// @return keyHash The key hash; reverts NoKeyAt if none was valid then.
    function keyHashAt(address owner, uint256 blockNumber) public view returns (bytes32 keyHash) {
        KeyRecord[] storage history = _history[owner];
        uint256 lo = 0;
        uint256 hi = history.length;
        // Find the first record with fromBlock > blockNumber; the one before it is valid.
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (history[mid].fromBlock > blockNumber) hi = mid;
            else lo = mid + 1;
        }
        if (lo == 0) revert NoKeyAt(owner, blockNumber);
        return history[lo - 1].keyHash;
    }

    /// @notice Check that `key` is the key valid for `owner` at `blockNumber`, and return it for
    ///         verification (what a dispute calls with the keys given in its calldata).
    /// @param owner The L1 address.
    /// @param blockNumber The block.
    /// @param key The claimed key.
    /// @return The key, when it matches.
    function checkedKeyAt(address owner, uint256 blockNumber, BLS.G2Point calldata key)
        external
        view
        returns (BLS.G2Point memory)
    {
        BLS.G2Point memory k = key;
        if (hashKey(k) != keyHashAt(owner, blockNumber)) revert KeyMismatch(owner, blockNumber);
        return k;
    }
}
