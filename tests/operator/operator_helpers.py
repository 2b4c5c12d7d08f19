"""Helpers of the operator tests (imported as `operator_helpers`)."""

import json
import urllib.error
import urllib.request

from eth_account import Account as EthAccount
from support.chain import advance as advance_clock
from support.keys import private_key_bytes
from web3 import Web3

from offchain.bls import SecretKey, g2_words
from offchain.l1.sender import SendPolicy
from offchain.recipient import address_recipient
from offchain.rollup.wallet import derive_key
from offchain.sequencer.optimistic import BatcherSettings

CHALLENGE = 100
BOND = 10**18

#: The BLS secret of each registered test user (address -> key), for the current deployment
#: (filled by the `bls_keys` fixture, which registers them before any batcher starts).
KEYS: dict[str, SecretKey] = {}


def private_key_of(account) -> bytes:
    return private_key_bytes(account)


def key_of(account) -> SecretKey:
    """The BLS signing key of a registered test user (format v2: derived from its L1 key)."""
    return KEYS[account.address]


def register_keys(chain, project, deployment, users) -> dict[str, SecretKey]:
    """Derive and register each user's BLS key, then mine past the activation delay."""
    registry = project.BLSKeyRegistry.at(deployment.address("BLSKeyRegistry"))
    out = {}
    for user in users:
        local = EthAccount.from_key(private_key_of(user))
        secret = derive_key(local, chain.chain_id, registry.address)
        registry.register(g2_words(secret.public_key().eip2537()), sender=user)
        out[user.address] = secret
    chain.mine(int(registry.activationDelay()) + 1)
    return out


def fund(bridge, user, amount):
    bridge.depositETH(address_recipient(user.address), value=amount, sender=user)


def settings_for(chain, deployment, deployer, store_path, **overrides) -> BatcherSettings:
    base = dict(
        rpc=chain.provider.uri,
        rollup=deployment.address("Rollup"),
        bridge=deployment.address("RollupBridge"),
        proposer_key=bytes(deployer.private_key_bytes)
        if hasattr(deployer, "private_key_bytes")
        else bytes.fromhex(deployer.private_key.removeprefix("0x")),
        store_path=store_path,
        max_batch_delay=3600,
        send_policy=SendPolicy(receipt_timeout=5, backoff=0.05, max_backoff=0.2),
        # These tests post calldata (the default, auto, takes blobs on Anvil's 1-wei blob base
        # fee); blob postings are tested in test_batcher_blobs.py.
        da="calldata",
    )
    base.update(overrides)
    return BatcherSettings(**base)


def http(url, method="GET", body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def advance(chain, seconds):
    advance_clock(Web3(Web3.HTTPProvider(chain.provider.uri)), seconds)
