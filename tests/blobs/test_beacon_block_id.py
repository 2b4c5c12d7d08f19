"""Which beacon API block id the blob readers ask for (offchain.blobs.beacon.beacon_block_id)."""

import pytest

from offchain.blobs.beacon import ZERO_ROOT, BeaconBlockNotYet, beacon_block_id
from offchain.blobs.errors import BeaconUnavailable

ROOT_N = bytes.fromhex("11" * 32)  # block n's own parentBeaconBlockRoot (its parent's beacon root)
ROOT_CHILD = bytes.fromhex("22" * 32)  # block n+1's parentBeaconBlockRoot = block n's beacon root


def test_consensus_chain_asks_by_the_beacon_root_the_next_block_records():
    assert beacon_block_id(100, ROOT_N, ROOT_CHILD) == "0x" + "22" * 32


def test_consensus_chain_head_waits_for_the_next_block():
    with pytest.raises(BeaconBlockNotYet, match="block 101"):
        beacon_block_id(100, ROOT_N, None)


def test_not_yet_is_an_unavailable_endpoint_error_the_readers_retry():
    assert issubclass(BeaconBlockNotYet, BeaconUnavailable)


def test_dev_node_without_roots_asks_by_execution_number():
    # Anvil leaves parentBeaconBlockRoot zero and serves the API by execution block number.
    assert beacon_block_id(100, ZERO_ROOT, ZERO_ROOT) == 100
    assert beacon_block_id(100, ZERO_ROOT, None) == 100


def test_own_root_never_names_the_block_itself():
    # block n's own root is its parent's beacon block: asking by it would read the wrong blobs.
    assert beacon_block_id(100, ROOT_N, ROOT_CHILD) != "0x" + ROOT_N.hex()
