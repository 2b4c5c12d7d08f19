"""Deployment files: round trip, and clear errors for what is missing or broken."""

import pytest

from offchain.deployments import Deployment, load_deployment, save_deployment
from offchain.errors import DeploymentNotFound, L2KitError

BRIDGE = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def test_round_trip(tmp_path):
    d = Deployment(31337, "ethereum:local", 3, {"L1Bridge": BRIDGE}, "http://127.0.0.1:8545")
    path = save_deployment(d, tmp_path)
    assert path.name == "ethereum-local.json"
    assert load_deployment("ethereum:local:foundry", tmp_path) == d
    assert load_deployment("ethereum:local", tmp_path).address("L1Bridge") == BRIDGE


def test_missing_file_says_how_to_fix(tmp_path):
    with pytest.raises(DeploymentNotFound, match="ape run deploy --network ethereum:sepolia"):
        load_deployment("ethereum:sepolia", tmp_path)


def test_unknown_contract_lists_known_ones(tmp_path):
    save_deployment(Deployment(1, "ethereum:local", 0, {"L1Bridge": BRIDGE}), tmp_path)
    with pytest.raises(L2KitError, match="has L1Bridge"):
        load_deployment("ethereum:local", tmp_path).address("Rollup")


def test_malformed_file_and_address(tmp_path):
    (tmp_path / "ethereum-local.json").write_text("{not json")
    with pytest.raises(L2KitError, match="malformed"):
        load_deployment("ethereum:local", tmp_path)
    with pytest.raises(L2KitError, match="malformed address"):
        save_deployment(Deployment(1, "ethereum:local", 0, {"X": "0xabc"}), tmp_path)
