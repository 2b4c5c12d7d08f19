"""The one `Env` of the optimistic-rollup tests (tests/rollup, tests/forced): a deployed bridge +
rollup + BLS key registry seen through both Ape (reverts, events) and web3 (fast sends)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account as EthAccount

from offchain.bls import SecretKey
from offchain.deploy import DeployParams, deploy_all
from offchain.rollup.codec import encode_forced_tx
from offchain.rollup.honest_proposer import HonestProposer
from offchain.rollup.l1 import RollupL1, Signer
from offchain.rollup.validator import Validator
from offchain.rollup.wallet import derive_key
from support.chain import advance
from support.keys import address_recipient, private_key_bytes

ETH = "0x" + "00" * 20
BLS_ACTIVATION_DELAY = 3
VALIDATOR_ACCOUNT = 9


@dataclass
class Env:
    """One deployed rollup with its bridge (and a test token where the folder needs one)."""

    w3: Any
    bridge: Any
    rollup: Any
    l1: RollupL1
    accounts: list[Any]
    dst: bytes  # the rollup's BLS signing tag
    bond_amount: int
    token: Any = None
    deployment: Any = None  # what deploy_all returned

    def bls(self, i: int) -> SecretKey:
        """L1 account i's BLS key, derived from its wallet (offchain.rollup.wallet.derive_key)."""
        acct = EthAccount.from_key(self.key(i))
        return derive_key(acct, int(self.w3.eth.chain_id), self.l1.registry.address)

    def register(self, *indexes: int) -> None:
        """Register each account's derived BLS key and mine past the activation delay."""
        entries = [self.l1.register_key(self.signer(i), self.bls(i)) for i in indexes]
        if entries:
            self.l1.wait_key_active(max(entries, key=lambda e: e.from_block), mine=True)

    def signer(self, i: int) -> Signer:
        return Signer(self.w3, self.key(i))

    def key(self, i: int) -> bytes:
        return private_key_bytes(self.accounts[i])

    def addr(self, i: int) -> str:
        return self.accounts[i].address.lower()

    def deposit_eth(self, i: int, amount: int, to: int | None = None) -> None:
        """Account i bridges `amount` wei to the L2 account of account `to` (default: its own)."""
        owner = self.addr(i if to is None else to)
        fn = self.l1.bridge.functions.depositETH(address_recipient(owner))
        self.signer(i).send(fn, value=amount, gas=200_000)

    def deposit_token(self, i: int, amount: int) -> None:
        if self.token is None:
            raise AssertionError("this Env has no test token: deploy it with token=True")
        self.token.mint(self.accounts[i], amount, sender=self.accounts[i])
        self.token.approve(self.bridge, amount, sender=self.accounts[i])
        self.bridge.depositERC20(
            self.token, amount, address_recipient(self.addr(i)), sender=self.accounts[i]
        )

    def force(self, i: int, tx: Any) -> None:
        """L1 account i queues `tx` (a Transfer or Withdraw, or a signed one: the signature
        is not part of a forced tx)."""
        fn = self.l1.rollup.functions.forceTransaction(encode_forced_tx(getattr(tx, "tx", tx)))
        self.signer(i).send(fn, gas=300_000)

    def operator(self, i: int = 0, fee_account: int = 0) -> HonestProposer:
        return HonestProposer(self.l1, self.signer(i), fee_account=fee_account)

    def validator(self, i: int = VALIDATOR_ACCOUNT) -> Validator:
        return Validator(self.l1, self.signer(i))

    def bond(self, i: int, amount: int | None = None) -> None:
        value = self.bond_amount if amount is None else amount
        self.signer(i).send(self.l1.rollup.functions.bond(), value=value, gas=100_000)

    def advance(self, seconds: int) -> None:
        advance(self.w3, seconds)

    def eth_claimable(self, i: int) -> int:
        return self.l1.bridge.functions.claimable(self.accounts[i].address, ETH).call()


def deploy_env(
    project: Any,
    deployer: Any,
    accounts: Any,
    chain: Any,
    *,
    bond: int,
    challenge_period: int,
    forced_delay: int,
    liveness_period: int,
    token: bool = False,
    governance: Any = None,
) -> Env:
    """Deploy bridge, key registry and rollup with `deploy_all` (as `ape run deploy` does), and
    an 18-decimal test token if `token`."""
    params = DeployParams(
        rollup_bond=bond,
        challenge_period=challenge_period,
        forced_inclusion_delay=forced_delay,
        liveness_period=liveness_period,
        bls_activation_delay=BLS_ACTIVATION_DELAY,
    )
    deployment = deploy_all(deployer, "ethereum:local", params, governance)
    bridge = project.L1Bridge.at(deployment.address("RollupBridge"))
    rollup = project.Rollup.at(deployment.address("Rollup"))
    test_token = deployer.deploy(project.TestToken, "Test", "TST", 18) if token else None
    w3 = chain.provider.web3
    l1 = RollupL1(w3, rollup.address, bridge.address)
    env = Env(w3, bridge, rollup, l1, list(accounts), l1.signing_dst(), bond, test_token)
    env.deployment = deployment
    return env
