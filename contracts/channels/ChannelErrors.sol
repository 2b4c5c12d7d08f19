// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ChannelErrors
/// @notice Every custom error the payment-channel adjudicator reverts with.
interface ChannelErrors {
    /// @notice The counterparty is the zero address or the caller itself.
    error InvalidPeer(address peer);
    /// @notice The challenge period is outside [MIN_CHALLENGE_PERIOD, MAX_CHALLENGE_PERIOD].
    error InvalidChallengePeriod(uint64 period);
    /// @notice ETH sent with an ERC-20 operation, or msg.value differs from the ETH amount.
    error WrongValue(uint256 sent, uint256 expected);
    /// @notice The token address holds no contract.
    error NotAToken(address token);
    /// @notice The token delivered a different amount than asked (fee-on-transfer tokens are unsupported).
    error TransferMismatch(uint256 received, uint256 expected);
    /// @notice No channel with this id, or it is not in the status the call needs.
    error WrongStatus(bytes32 channelId, uint8 status);
    /// @notice The caller is not the participant this call needs.
    error NotParticipant(bytes32 channelId, address caller);
    /// @notice The peer already made its initial deposit, or the channel was adjusted already.
    error FundingClosed(bytes32 channelId);
    /// @notice A zero amount where something must move.
    error ZeroAmount();
    /// @notice A signature did not recover to the expected signer (wrong key, domain, chain or data).
    error BadSignature(address expected, address recovered);
    /// @notice A signature is malformed or uses a high-s value.
    error MalformedSignature();
    /// @notice The signed message expired.
    error Expired(uint64 expiry, uint256 nowTs);
    /// @notice A state whose nonce is not newer than what the contract already holds.
    error StaleNonce(uint64 nonce, uint64 required);
    /// @notice balanceA + balanceB + lockedAmount does not equal the channel's total.
    error BalanceMismatch(uint256 sum, uint256 total);
    /// @notice The party index is not 0 (A) or 1 (B).
    error InvalidParty(uint8 party);
    /// @notice A withdrawal larger than the channel's total.
    error WithdrawalTooLarge(uint256 withdrawal, uint256 total);
    /// @notice The challenge period is still running.
    error ChallengeRunning(uint64 deadline);
    /// @notice The challenge period is over.
    error ChallengeOver(uint64 deadline);
    /// @notice The watchtower delegation names another channel, party or watchtower.
    error InvalidDelegation();
    /// @notice The lock list is empty, longer than MAX_UNLOCKS, or the proofs do not match it.
    error InvalidLockBatch(uint256 locks, uint256 proofs);
    /// @notice The lock is not committed under the settled locks root.
    error LockNotInRoot(bytes32 leaf);
    /// @notice The lock was unlocked before.
    error LockAlreadyUnlocked(bytes32 leaf);
    /// @notice The lock's secret is not registered and it has not expired yet: wait or register.
    error LockUnresolved(bytes32 hashlock, uint64 expiry);
    /// @notice The lock amounts exceed what the settled state locked.
    error LockedFundsExceeded(uint256 amount, uint256 remaining);
    /// @notice Nothing to claim for this account and token.
    error NothingToClaim(address account, address token);
    /// @notice Sending ETH failed.
    error EthTransferFailed(address to, uint256 amount);
    /// @notice The penalty share is above 10000 basis points.
    error InvalidPenalty(uint256 bps);
    /// @notice The secret was registered before.
    error SecretAlreadyRegistered(bytes32 hashlock);
    /// @notice The deposit would take the channel's total above MAX_TOTAL (amounts are stored in 96 bits).
    error AmountTooLarge(uint256 total, uint256 max);
    /// @notice unlockAll found no lock it could resolve now (all done, or secrets unknown and unexpired).
    error NothingToUnlock(bytes32 channelId);
    /// @notice Too little gas left for a direct payout and its fallback: send with a higher gas limit.
    error PayoutGasTooLow(uint256 left, uint256 needed);
}
