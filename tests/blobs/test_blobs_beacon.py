"""The beacon reader: real blobs from Anvil's beacon API, and a local endpoint that misbehaves."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from blobs_helpers import send_blobs

from offchain.blobs import (
    BeaconReader,
    BeaconSettings,
    BeaconUnavailable,
    BlobMismatch,
    BlobMissing,
    decode,
    encode,
    kzg,
)

BLOBS = encode(b"beacon test " * 12_000)  # 144,000 bytes: two blobs
HASHES = [kzg.blob_versioned_hash(b) for b in BLOBS]
OTHER = encode(b"not the batch")[0]


class FakeBeacon:
    """A local beacon API whose answers the test sets: status, blobs, raw body, sidecars."""

    def __init__(self) -> None:
        self.status = 200
        self.blobs: list[bytes] = []
        self.body: bytes | None = None
        self.sidecars: list[dict] | None = None  # set: /blobs/ answers 404, sidecars serve these
        self.paths: list[str] = []
        self.delay = 0.0  # seconds to wait before answering
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.paths.append(self.path)
                time.sleep(fake.delay)
                if self.path.startswith("/eth/v1/beacon/blob_sidecars/"):
                    if fake.sidecars is None:
                        return self._send(410, b'{"code":410}')
                    return self._send(200, json.dumps({"data": fake.sidecars}).encode())
                if fake.sidecars is not None:
                    return self._send(404, b'{"code":404,"message":"route not found"}')
                if fake.body is not None:
                    return self._send(fake.status, fake.body)
                data = ["0x" + b.hex() for b in fake.blobs]
                return self._send(fake.status, json.dumps({"data": data}).encode())

            def _send(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake():
    server = FakeBeacon()
    yield server
    server.close()


def _reader(url: str, **settings) -> BeaconReader:
    return BeaconReader(BeaconSettings(url=url, **{"timeout": 2.0, **settings}))


# --- against Anvil's beacon API, with real type-3 transactions ---------------------------------


@pytest.fixture(scope="module")
def posted(w3, blob_signer):
    receipt, signed = send_blobs(w3, blob_signer, blob_signer.address, b"", BLOBS)
    return receipt["blockNumber"], list(signed.versioned_hashes)


@pytest.mark.slow  # posts blobs through a beacon stub
def test_reads_posted_blobs_back_from_anvil_by_versioned_hash(w3, posted):
    block, hashes = posted
    reader = _reader(w3.provider.endpoint_uri)
    assert reader.blobs(block, hashes) == BLOBS
    assert reader.blobs(block, hashes[::-1]) == BLOBS[::-1]
    assert decode(reader.blobs(block, hashes)) == b"beacon test " * 12_000


def test_anvil_lacking_a_requested_blob_is_blob_missing(w3, posted):
    block, hashes = posted
    with pytest.raises(BlobMissing, match="18 days"):
        _reader(w3.provider.endpoint_uri).blobs(block, [*hashes, kzg.blob_versioned_hash(OTHER)])


def test_anvil_unknown_block_is_blob_missing(w3, posted):
    _, hashes = posted
    with pytest.raises(BlobMissing, match="does not know block"):
        _reader(w3.provider.endpoint_uri).blobs(10**9, hashes)


# --- against a local endpoint that misbehaves ---------------------------------------------------


def test_honest_endpoint_is_read_and_asked_with_the_hash_filter(fake):
    fake.blobs = BLOBS
    assert _reader(fake.url).blobs(5, HASHES) == BLOBS
    assert fake.paths[0].startswith("/eth/v1/beacon/blobs/5?versioned_hashes=0x" + HASHES[0].hex())


def test_endpoint_serving_a_wrong_blob_is_a_mismatch_and_nothing_is_returned(fake):
    fake.blobs = [BLOBS[0], OTHER]
    with pytest.raises(BlobMismatch, match="switch the beacon URL") as err:
        _reader(fake.url).blobs(5, HASHES)
    assert kzg.blob_versioned_hash(OTHER).hex() in str(err.value)


def test_endpoint_serving_a_blob_with_one_flipped_byte_is_a_mismatch(fake):
    bad = bytearray(BLOBS[1])
    bad[1000] ^= 1
    fake.blobs = [BLOBS[0], bytes(bad)]
    with pytest.raises(BlobMismatch):
        _reader(fake.url).blobs(5, HASHES)


def test_endpoint_serving_a_non_canonical_or_short_blob_is_a_mismatch(fake):
    fake.blobs = [BLOBS[0], b"\xff" * len(BLOBS[1])]
    with pytest.raises(BlobMismatch, match="malformed"):
        _reader(fake.url).blobs(5, HASHES)
    fake.blobs = [BLOBS[0], BLOBS[1][:-1]]
    with pytest.raises(BlobMismatch, match="malformed"):
        _reader(fake.url).blobs(5, HASHES)


def test_endpoint_lacking_a_blob_is_missing_with_the_pruning_hint(fake):
    fake.blobs = [BLOBS[0]]
    with pytest.raises(BlobMissing, match="prune blobs after 4096 epochs") as err:
        _reader(fake.url).blobs(5, HASHES)
    assert HASHES[1].hex() in str(err.value)


def test_extra_blobs_of_other_transactions_are_ignored(fake):
    fake.blobs = [OTHER, BLOBS[1], BLOBS[0]]
    assert _reader(fake.url).blobs(5, HASHES) == BLOBS


def test_endpoint_that_is_down_is_unavailable_then_recovers(fake):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens here now
    with pytest.raises(BeaconUnavailable, match="unreachable"):
        _reader(f"http://127.0.0.1:{port}").blobs(5, HASHES)
    fake.status = 503
    with pytest.raises(BeaconUnavailable, match="HTTP 503"):
        _reader(fake.url).blobs(5, HASHES)
    fake.status, fake.blobs = 200, BLOBS  # the node comes back: the same read now succeeds
    assert _reader(fake.url).blobs(5, HASHES) == BLOBS


def test_missing_blob_is_read_once_the_endpoint_has_it(fake):
    fake.blobs = []
    with pytest.raises(BlobMissing):
        _reader(fake.url).blobs(5, HASHES)
    fake.blobs = BLOBS
    assert _reader(fake.url).blobs(5, HASHES) == BLOBS


@pytest.mark.parametrize("body", [b"not json", b'{"data": 5}', b'{"nodata": []}'])
def test_endpoint_answering_something_else_is_unavailable(fake, body):
    fake.body = body
    with pytest.raises(BeaconUnavailable, match="not a beacon API"):
        _reader(fake.url).blobs(5, HASHES)


def test_bad_request_is_unavailable_with_the_setting_to_check(fake):
    fake.status = 400
    with pytest.raises(BeaconUnavailable, match="HTTP 400"):
        _reader(fake.url).blobs("head", HASHES)


def test_sidecar_fallback_uses_only_the_blob_bytes(fake):
    wrong = "0x" + kzg.commitment(OTHER).hex()  # lies in every field but the blob
    fake.sidecars = [
        {"index": "7", "blob": "0x" + b.hex(), "kzg_commitment": wrong, "kzg_proof": wrong}
        for b in BLOBS
    ]
    assert _reader(fake.url).blobs(5, HASHES) == BLOBS
    assert fake.paths[-1] == "/eth/v1/beacon/blob_sidecars/5"


def test_sidecar_fallback_still_checks_the_blob(fake):
    fake.sidecars = [{"blob": "0x" + OTHER.hex()}, {"blob": 5}]
    with pytest.raises(BlobMismatch):
        _reader(fake.url).blobs(5, HASHES)


def test_endpoint_that_hangs_is_unavailable_after_the_timeout(fake):
    fake.blobs, fake.delay = BLOBS, 1.0
    with pytest.raises(BeaconUnavailable, match="unreachable"):
        _reader(fake.url, timeout=0.3).blobs(5, HASHES)


def test_oversized_answer_is_refused_without_reading_it_all(fake):
    fake.blobs = [*BLOBS, OTHER]
    with pytest.raises(BeaconUnavailable, match="more than 300,000 bytes"):
        _reader(fake.url, max_response_bytes=300_000).blobs(5, HASHES)


def test_blob_tx_signed_by_eth_account_itself_is_read_back(w3, blob_signer, monkeypatch):
    """The reader does not depend on l2kit's wrapper: eth-account's own `blobs=` form works."""
    import eth_account.typed_transactions.base as eth_account_base

    # eth-account reloads the trusted setup for every proof (about 4 s each): hand it ours.
    monkeypatch.setattr(eth_account_base, "load_trusted_setup", lambda *_: kzg.load_setup())
    blobs = encode(b"signed by eth-account")
    latest = w3.eth.get_block("latest")
    tx = {
        "type": 3,
        "chainId": w3.eth.chain_id,
        "nonce": w3.eth.get_transaction_count(blob_signer.address, "pending"),
        "to": blob_signer.address,
        "value": 0,
        "gas": 21_000,
        "maxFeePerGas": 2 * latest["baseFeePerGas"] + 1,
        "maxPriorityFeePerGas": 1,
        "maxFeePerBlobGas": 2 * w3.eth.blob_base_fee + 1,
    }
    signed = blob_signer.sign_transaction(tx, blobs=blobs)
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(signed.raw_transaction)
    )
    hashes = w3.eth.get_transaction(receipt["transactionHash"])["blobVersionedHashes"]
    read = _reader(w3.provider.endpoint_uri).blobs(receipt["blockNumber"], hashes)
    assert decode(read) == b"signed by eth-account"
