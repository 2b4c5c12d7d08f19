"""Raiden's TokenNetwork (raiden-contracts, shipped bytecode) driven for the gas comparison.

The wheel is fetched by `make bench` (pinned with its sha256 in bench/raiden.lock) and read here
with zipfile; nothing of Raiden is imported. Signatures follow Raiden 0.50's TokenNetwork.sol:
personal-sign messages over abi.encodePacked fields (balance proofs, counter-signatures, withdraws).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.contract import Contract

from bench.sidebyside.evm import Node

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "bench" / "raiden.lock"
CACHE = ROOT / ".cache" / "raiden"

# MessageType.MessageTypeId in Raiden 0.50
BALANCE_PROOF, BALANCE_PROOF_UPDATE, WITHDRAW = 1, 2, 3
MAX_UINT = 2**256 - 1


def pinned() -> tuple[str, str]:
    """(version, sha256) of raiden-contracts from bench/raiden.lock."""
    for line in LOCK.read_text().splitlines():
        if line.startswith("raiden-contracts=="):
            spec, digest = line.split()
            return spec.split("==")[1], digest.removeprefix("sha256=")
    raise SystemExit(f"{LOCK} names no raiden-contracts version")


def load_contracts() -> tuple[str, dict]:
    """Raiden's contracts.json from the pinned wheel, after checking the wheel's sha256."""
    version, digest = pinned()
    wheel = CACHE / f"raiden_contracts-{version}-py3-none-any.whl"
    if not wheel.exists():
        raise SystemExit(f"{wheel} is missing: run `make bench` (it fetches the pinned wheel)")
    got = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if got != digest:
        raise SystemExit(f"{wheel} has sha256 {got}, bench/raiden.lock pins {digest}: delete it")
    with zipfile.ZipFile(wheel) as z:
        data = json.loads(z.read("raiden_contracts/data/contracts.json"))
    return version, data["contracts"]


def _ctor_args(abi: list) -> list[str]:
    ctor = next(x for x in abi if x["type"] == "constructor")
    return [i["name"] for i in ctor["inputs"]]


@dataclass
class Raiden:
    """A deployed SecretRegistry + TokenNetworkRegistry + TokenNetwork for one token."""

    node: Node
    secrets: Contract
    registry: Contract
    network: Contract
    version: str

    @staticmethod
    def deploy(node: Node, deployer: LocalAccount, token: str, settle_timeout: int) -> Raiden:
        version, cs = load_contracts()
        sr = node.deploy(deployer, cs["SecretRegistry"]["abi"], _hex(cs["SecretRegistry"]["bin"]))
        reg_abi = cs["TokenNetworkRegistry"]["abi"]
        args = {"_secret_registry_address": sr.address, "_settle_timeout": settle_timeout}
        args["_max_token_networks"] = MAX_UINT
        reg = node.deploy(
            deployer,
            reg_abi,
            _hex(cs["TokenNetworkRegistry"]["bin"]),
            *[args[n] for n in _ctor_args(reg_abi)],
        )
        node.send(deployer, reg.functions.createERC20TokenNetwork(token, MAX_UINT, MAX_UINT))
        tn = node.at(reg.functions.token_to_token_networks(token).call(), cs["TokenNetwork"]["abi"])
        return Raiden(node, node.at(sr.address, cs["SecretRegistry"]["abi"]), reg, tn, version)

    # ------------------------------------------------------------ signing (TokenNetwork.sol)

    def _personal(self, acct: LocalAccount, msg: bytes) -> bytes:
        return bytes(acct.sign_message(encode_defunct(primitive=msg)).signature)

    def _head(self, kind: int, cid: int) -> bytes:
        return (
            bytes.fromhex(self.network.address[2:])
            + self.node.chain_id.to_bytes(32, "big")
            + kind.to_bytes(32, "big")
            + cid.to_bytes(32, "big")
        )

    def balance_proof(
        self, signer: LocalAccount, cid: int, bhash: bytes, nonce: int, extra: bytes
    ) -> bytes:
        msg = self._head(BALANCE_PROOF, cid) + bhash + nonce.to_bytes(32, "big") + extra
        return self._personal(signer, msg)

    def counter_sign(
        self, signer: LocalAccount, kind: int, cid: int, bhash: bytes, nonce: int, extra: bytes,
        sig: bytes,
    ) -> bytes:  # fmt: skip
        msg = self._head(kind, cid) + bhash + nonce.to_bytes(32, "big") + extra + sig
        return self._personal(signer, msg)

    def withdraw_sig(
        self, signer: LocalAccount, cid: int, participant: str, total: int, until: int
    ) -> bytes:
        msg = (
            self._head(WITHDRAW, cid)
            + bytes.fromhex(participant[2:])
            + total.to_bytes(32, "big")
            + until.to_bytes(32, "big")
        )
        return self._personal(signer, msg)


def balance_hash(transferred: int, locked: int, locksroot: bytes) -> bytes:
    return keccak(transferred.to_bytes(32, "big") + locked.to_bytes(32, "big") + locksroot)


def pack_locks(locks: list[tuple[int, int, bytes]]) -> bytes:
    """Raiden's lock list: (unlockable_until || amount || secrethash) per lock, 96 bytes each."""
    return b"".join(u.to_bytes(32, "big") + a.to_bytes(32, "big") + h for u, a, h in locks)


def secret_hash(secret: bytes) -> bytes:
    """Raiden's SecretRegistry key: sha256(secret)."""
    return hashlib.sha256(secret).digest()


def _hex(code: str) -> str:
    return code if code.startswith("0x") else "0x" + code
