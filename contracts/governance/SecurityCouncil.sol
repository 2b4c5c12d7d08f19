// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title SecurityCouncil
/// @notice m-of-n multisig of the l2kit Security Council. Members approve a call off chain with an
///         EIP-712 signature bound to this contract, the chain id, the council's nonce and a
///         deadline; anyone submits `threshold` approvals with `execute`.
/// @dev Rules (L2BEAT's for a Security Council, plus replay safety), each enforced below:
///      (C1) at least MIN_MEMBERS members and a threshold of at least 75% of them, always;
///      (C2) members and threshold change only through the council itself (`execute` calling
///           `addMember`/`removeMember`/`changeThreshold`);
///      (C3) an approval is valid once: the nonce is part of the digest and moves on each execution;
///      (C4) signers are given in strictly ascending address order, so no member counts twice;
///           OZ ECDSA refuses malleable (high-s) signatures and the zero address.
///      The council holds no funds and sends no value. Its powers are only the roles other contracts
///      give it (docs/governance.md, "Security Council powers").
contract SecurityCouncil is EIP712, ReentrancyGuardTransient {
    /// @notice Fewest members (L2BEAT: a Security Council has at least 8).
    uint256 public constant MIN_MEMBERS = 8;
    /// @notice Most members (bounds the signature loop).
    uint256 public constant MAX_MEMBERS = 32;
    /// @notice EIP-712 type of an approval.
    bytes32 public constant CALL_TYPEHASH =
        keccak256("Call(address target,bytes data,uint256 nonce,uint256 deadline)");

    /// @dev Members in insertion order (removal swaps with the last).
    address[] private _members;
    /// @notice Whether an address is a member.
    mapping(address account => bool member) public isMember;
    /// @notice Approvals needed to execute.
    uint256 public threshold;
    /// @notice Nonce the next approval must carry (the EIP-712 `nonce` field).
    uint256 public actionNonce;

    /// @notice Emitted when a call approved by the council was made.
    /// @param nonce The nonce it consumed.
    /// @param target The called contract.
    /// @param data The calldata.
    /// @param digest The EIP-712 digest the members signed.
    event Executed(uint256 indexed nonce, address indexed target, bytes data, bytes32 digest);
    /// @notice Emitted when a member joins.
    /// @param member The new member.
    event MemberAdded(address indexed member);
    /// @notice Emitted when a member leaves.
    /// @param member The removed member.
    event MemberRemoved(address indexed member);
    /// @notice Emitted when the threshold changes.
    /// @param threshold The new threshold.
    event ThresholdChanged(uint256 threshold);

    /// @notice Membership or threshold outside the rules (C1).
    /// @param members Number of members.
    /// @param threshold_ Threshold asked for.
    error BadThreshold(uint256 members, uint256 threshold_);
    /// @notice Zero address, a duplicate, or not a member.
    /// @param account The refused account.
    error BadMember(address account);
    /// @notice Fewer approvals than the threshold.
    /// @param given Approvals given.
    /// @param needed The threshold.
    error NotEnoughApprovals(uint256 given, uint256 needed);
    /// @notice An approval's signer is not a member or is out of ascending order.
    /// @param signer The recovered signer.
    error BadApproval(address signer);
    /// @notice The approvals' deadline has passed.
    /// @param deadline The deadline.
    error Expired(uint256 deadline);
    /// @notice Only the council itself may call this.
    /// @param caller The refused caller.
    error OnlyCouncil(address caller);
    /// @notice The approved call reverted.
    /// @param reason Its revert data.
    error CallFailed(bytes reason);

    /// @notice Creates the council.
    /// @param members_ Initial members (at least MIN_MEMBERS, distinct, non-zero).
    /// @param threshold_ Approvals needed (at least 75% of the members).
    constructor(address[] memory members_, uint256 threshold_) EIP712("l2kit Security Council", "1") {
        for (uint256 i = 0; i < members_.length; ++i) {
            _add(members_[i]);
        }
        _setThreshold(threshold_);
    }

    /*//////////////////////////////////////////////////////////////
                                EXECUTE
    //////////////////////////////////////////////////////////////*/

    /// @notice Makes a call the council approved.
    /// @param target Contract to call.
    /// @param data Calldata.
    /// @param deadline Last timestamp at which the approvals are valid.
    /// @param signatures One 65-byte signature per approving member, signers ascending.
    /// @return result The call's return data.
    function execute(address target, bytes calldata data, uint256 deadline, bytes[] calldata signatures)
        external
        nonReentrant
        returns (bytes memory result)
    {
        if (block.timestamp > deadline) revert Expired(deadline);
        uint256 n = actionNonce;
        bytes32 digest = callDigest(target, data, n, deadline);
        _checkApprovals(digest, signatures);
        // (C3): the approvals are spent before the call is made.
        actionNonce = n + 1;
        bool ok;
        (ok, result) = target.call(data);
        if (!ok) revert CallFailed(result);
        emit Executed(n, target, data, digest);
    }

    /// @notice The EIP-712 digest members sign to approve a call.
    /// @param target Contract to call.
    /// @param data Calldata.
    /// @param nonce_ Council nonce the approval is for.
    /// @param deadline Last valid timestamp.
    /// @return digest The digest.
    function callDigest(address target, bytes calldata data, uint256 nonce_, uint256 deadline)
        public
        view
        returns (bytes32 digest)
    {
        return _hashTypedDataV4(keccak256(abi.encode(CALL_TYPEHASH, target, keccak256(data), nonce_, deadline)));
    }

    /// @notice The EIP-712 domain separator (chain id and this address inside).
    /// @return separator The separator.
    function domainSeparator() external view returns (bytes32 separator) {
        return _domainSeparatorV4();
    }

    /// @notice The current members.
    /// @return list Their addresses.
    function members() external view returns (address[] memory list) {
        return _members;
    }

    /*//////////////////////////////////////////////////////////////
                          MEMBERSHIP (C2: self only)
    //////////////////////////////////////////////////////////////*/

    /// @notice Adds a member and sets the threshold (council only).
    /// @param member New member.
    /// @param threshold_ New threshold.
    function addMember(address member, uint256 threshold_) external {
        _onlySelf();
        _add(member);
        _setThreshold(threshold_);
    }

    /// @notice Removes a member and sets the threshold (council only).
    /// @param member Member to remove.
    /// @param threshold_ New threshold.
    function removeMember(address member, uint256 threshold_) external {
        _onlySelf();
        if (!isMember[member]) revert BadMember(member);
        isMember[member] = false;
        uint256 n = _members.length;
        for (uint256 i = 0; i < n; ++i) {
            if (_members[i] == member) {
                _members[i] = _members[n - 1];
                _members.pop();
                break;
            }
        }
        emit MemberRemoved(member);
        _setThreshold(threshold_);
    }

    /// @notice Changes the threshold (council only).
    /// @param threshold_ New threshold.
    function changeThreshold(uint256 threshold_) external {
        _onlySelf();
        _setThreshold(threshold_);
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _checkApprovals(bytes32 digest, bytes[] calldata signatures) private view {
        uint256 t = threshold;
        if (signatures.length < t) revert NotEnoughApprovals(signatures.length, t);
        address last = address(0);
        for (uint256 i = 0; i < t; ++i) {
            address signer = ECDSA.recover(digest, signatures[i]);
            // (C4): strictly ascending, so each member counts once.
            if (!isMember[signer] || signer <= last) revert BadApproval(signer);
            last = signer;
        }
    }

    function _onlySelf() private view {
        if (msg.sender != address(this)) revert OnlyCouncil(msg.sender);
    }

    function _add(address member) private {
        if (member == address(0) || isMember[member]) revert BadMember(member);
        if (_members.length >= MAX_MEMBERS) revert BadThreshold(_members.length + 1, threshold);
        isMember[member] = true;
        _members.push(member);
        emit MemberAdded(member);
    }

    function _setThreshold(uint256 t) private {
        uint256 n = _members.length;
        // (C1): at least 8 members, and at least 75% of them must approve (t * 4 >= n * 3).
        if (n < MIN_MEMBERS || t > n || t * 4 < n * 3) revert BadThreshold(n, t);
        threshold = t;
        emit ThresholdChanged(t);
    }
}
