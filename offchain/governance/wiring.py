"""Deploy l2kit contracts behind OpenZeppelin transparent proxies owned by the timelock.

Each governed contract is two deployments: the implementation (constructed with the values that
are fixed for the deployment; its constructor locks its own initializer) and a `GovernedProxy`
(OZ 5.4 `TransparentUpgradeableProxy`) whose constructor creates the proxy's `ProxyAdmin`, owned
by the ExitWindowTimelock, and runs `initialize(...)` in the proxy's storage. See
docs/governance.md §5.

Pure helpers (slot numbers, the plan of a deployment) are separated from the Ape calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_utils import to_checksum_address

from offchain.errors import L2KitError
from offchain.governance.deploy import GovernanceParams

#: ERC-1967 slots: bytes32(uint256(keccak256("eip1967.proxy.admin")) - 1) and
#: bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1).
ADMIN_SLOT = 0xB53127684A568B3173AE13B9F8A6016E243E63B6E8EE1178D6A717850B5D6103
IMPLEMENTATION_SLOT = 0x360894A13BA1A3210667C828492DB98DCA3E2076CC3735A920A3CA505D382BBC
ZERO = "0x0000000000000000000000000000000000000000"

#: Development Security Council for local networks: nine members whose keys are public
#: (bytes([i + 1]) * 32), threshold 7 (77.8%, L2BEAT's >= 75% with >= 8 members). Never use
#: these off a local chain: anyone can sign for them.
DEV_COUNCIL_KEYS = tuple(bytes([i + 1]) * 32 for i in range(9))
DEV_COUNCIL_THRESHOLD = 7


@dataclass(frozen=True)
class GovernanceSetup:
    """Who governs a deployment."""

    members: tuple[str, ...]
    threshold: int
    #: Accounts given PROPOSER_ROLE and CANCELLER_ROLE (governance: a DAO's governor, a multisig).
    proposers: tuple[str, ...]
    params: GovernanceParams = field(default_factory=GovernanceParams)


def dev_setup(proposer: str) -> GovernanceSetup:
    """The local-network setup: the development council, `proposer` proposes."""
    members = tuple(Account.from_key(k).address for k in DEV_COUNCIL_KEYS)
    return GovernanceSetup(members, DEV_COUNCIL_THRESHOLD, (proposer,))


def setup_for(
    members: tuple[str, ...], threshold: int, proposers: tuple[str, ...], deployer: str, local: bool
) -> GovernanceSetup:
    """The setup given on the command line, or the development one on a local network."""
    if members:
        if not proposers:
            raise L2KitError(
                "a governed deployment needs at least one proposer: pass --proposer ADDRESS "
                "(a governor contract or a team multisig)"
            )
        return GovernanceSetup(members, threshold, proposers)
    if not local:
        raise L2KitError(
            "deploying off a local network needs a Security Council: pass --council ADDRESS once "
            "per member (at least 8), --council-threshold (at least 75% of them) and --proposer"
        )
    return dev_setup(proposers[0] if proposers else deployer)


def slot_address(word: bytes) -> str:
    """The address held in the low 20 bytes of a 32-byte storage word."""
    if len(word) != 32:
        raise ValueError(f"a storage word is 32 bytes, got {len(word)}")
    return to_checksum_address(word[12:])


@dataclass(frozen=True)
class Proxied:
    """A contract behind its proxy: `contract` is the proxy address with the implementation ABI."""

    contract: Any
    implementation: str
    admin: str

    def entries(self, name: str) -> dict[str, str]:
        """Deployment-file entries: `name` stays the proxy (what every reader uses)."""
        return {
            name: self.contract.address,
            f"{name}Implementation": self.implementation,
            f"{name}ProxyAdmin": self.admin,
        }


def read_slot_address(provider: Any, contract: str, slot: int) -> str:
    """The address stored at `slot` of `contract` (via the provider's web3)."""
    return slot_address(bytes(provider.web3.eth.get_storage_at(contract, slot)))


def deploy_proxied(
    project: Any,
    deployer: Any,
    container: Any,
    owner: str,
    constructor_args: tuple,
    initialize_args: tuple,
    initialize_abi: Any = None,
) -> Proxied:
    """Deploy `container`'s implementation, then a GovernedProxy running `initialize(...)`;
    two transactions from `deployer`. `owner` becomes the owner of the proxy's ProxyAdmin.
    `initialize_abi` is the container whose ABI has `initialize` when `container`'s does not
    (the optimistic Rollup forwards it to its RollupGovernor)."""
    implementation = deployer.deploy(container, *constructor_args)
    init_at = (
        implementation if initialize_abi is None else initialize_abi.at(implementation.address)
    )
    data = init_at.initialize.encode_input(*initialize_args)
    proxy = deployer.deploy(project.GovernedProxy, implementation, owner, data)
    admin = read_slot_address(proxy.provider, proxy.address, ADMIN_SLOT)
    return Proxied(container.at(proxy.address), implementation.address, admin)


def check_timelock_address(actual: str, predicted: str) -> None:
    if to_checksum_address(actual) != to_checksum_address(predicted):
        raise L2KitError(
            f"timelock landed at {actual}, not the predicted {predicted}: the deployer sent "
            "another transaction during the deployment; redeploy from an account nobody else uses"
        )
