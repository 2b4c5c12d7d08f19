"""Helpers of the rollup tests (imported as `rollup_helpers`): the folder's constants and bond and
bounty helpers; the Env bundle, keys and reverts come from the shared `support` package."""

from __future__ import annotations

from support.keys import address_recipient as recipient
from support.keys import private_key_bytes as key_of
from support.reverts import assert_reverts
from support.rollup_env import ETH, Env

__all__ = ["ETH", "Env", "assert_reverts", "key_of", "recipient"]  # the shared ones, re-exported

BOND = 10**18
CHALLENGE_PERIOD = 3600
FORCED_DELAY = 86_400
LIVENESS_PERIOD = 30 * 86_400


# --------------------------------------------------------------- bonds and bounties


def lie(seed: int) -> bytes:
    """A post-root nobody can reach: what a cheating proposer claims."""
    from eth_utils import keccak

    return keccak(b"lie" + seed.to_bytes(8, "big"))


def post_empty(env: Env, i: int, claimed_root: bytes | None = None) -> int:
    """Account `i` posts a batch of one empty commitment on the current head: honest (the post-root
    is the head's) unless `claimed_root` says otherwise. Returns the batch index."""
    from offchain.rollup.codec import encode_batch
    from offchain.rollup.types import Commitment

    f = env.l1.rollup.functions
    root, deposit_end, forced_end = f.head().call()
    post_root = bytes(root) if claimed_root is None else claimed_root
    data = encode_batch([Commitment(post_root, deposit_end, forced_end, 0)])
    index = f.batchCount().call()
    env.signer(i).send(f.postBatch(bytes(root), data), gas=500_000)
    return index


def empty_proof(env: Env, index: int, claimed_root: bytes):
    """The fraud proof against batch `index` posted by `post_empty(..., claimed_root)`: executing
    no txs leaves the pre-root, so any other claimed root is WRONG_ROOT."""
    from offchain.rollup.execute import execute
    from offchain.rollup.proofs import fraud_proof
    from offchain.rollup.state import L2State
    from offchain.rollup.types import Commitment

    logs = env.l1.rollup.events.BatchPosted.get_logs(
        from_block=0, argument_filters={"index": index}
    )
    a = logs[-1]["args"]  # the latest posting at that index (also after a rollback or freeze)
    c = Commitment(claimed_root, a["depositEnd"], a["forcedEnd"], 0)
    return fraud_proof(index, [c], 0, (), execute(L2State(), c, ()))


def bounty_of(env: Env, receipt) -> int:
    """The id of the bounty a successful proof opened."""
    from web3.logs import DISCARD

    logs = env.l1.rollup.events.BountyOpened().process_receipt(receipt, errors=DISCARD)
    return logs[0]["args"]["id"]
