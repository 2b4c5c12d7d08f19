"""Helpers of the blob-reading tests: post a blob posting, a switchable beacon proxy in front
of Anvil, and bulky commitments that fill several blobs (imported as `blobread_helpers`)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rollup_helpers import Env

from offchain.blobs import encode
from offchain.blobs.tx import send_blobs
from offchain.l1.sender import SendPolicy
from offchain.rollup import blob_batches
from offchain.rollup.adversary import blob_posting
from offchain.rollup.builder import build_batch
from offchain.rollup.l1 import Signer
from offchain.rollup.posting import POST_BLOB_BATCHES_SELECTOR, encode_posting
from offchain.rollup.types import Commitment, Transfer
from offchain.rollup.wallet import sign_transfer

#: Quick retries: the tests' Anvil mines at once.
TEST_POLICY = SendPolicy(receipt_timeout=10.0, backoff=0.05, max_backoff=0.2, max_attempts=3)
#: A valid blob that is no batch's: what a lying endpoint serves.
OTHER_BLOB = encode(b"some other rollup's data")[0]


def post_blobs(
    env: Env, i: int, posting: blob_batches.BlobPosting, pre_root: bytes | None = None
) -> dict:
    """Account `i` posts `posting` with postBlobBatches on the current head (one bond per batch,
    topped up first); returns the receipt."""
    f = env.l1.rollup.functions
    if pre_root is None:
        pre_root = bytes(f.head().call()[0])
    need = len(posting.batches) * f.requiredBond().call() - f.bondOf(env.accounts[i].address).call()
    if need > 0:
        env.bond(i, need)
    signer = Signer(env.w3, env.key(i), TEST_POLICY)
    calldata = encode_posting(pre_root, posting.data, POST_BLOB_BATCHES_SELECTOR)
    return send_blobs(signer.sender, env.rollup.address, calldata, posting.blobs()).receipt


def post_commitments(env: Env, i: int, batches: Sequence[Sequence[Commitment]]) -> dict:
    """Post these batches (commitments each) as one blob posting, laid out honestly."""
    return post_blobs(env, i, blob_posting(batches))


def bulky_batches(n_batches: int, root: bytes, deposit_end: int = 0) -> list[list[Commitment]]:
    """`n_batches` batches of 64 commitments of 32 transfers each (well framed, not valid L2
    txs: for reading tests only). Five fill two blobs."""
    out = []
    for b in range(n_batches):
        cs = []
        for k in range(64):
            transfers = tuple(Transfer(k, (b * 64 + k + t) % 1000, 10 + t, 1) for t in range(32))
            cs.append(
                Commitment(root, deposit_end, 0, 0, transfers=transfers, signature=b"\x11" * 48)
            )
        out.append(cs)
    return out


class BeaconProxy:
    """A beacon API in front of Anvil's whose behaviour the test switches: `pass` (forward),
    `down` (drop the connection), `wrong` (serve another valid blob), `missing` (serve none)."""

    MODES = ("pass", "down", "wrong", "missing")

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.mode = "pass"
        self.requests = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy.requests += 1
                mode = proxy.mode
                if mode == "down":
                    self.close_connection = True
                    return  # no answer: the client sees the connection closed
                if mode == "missing":
                    return self._send(200, json.dumps({"data": []}).encode())
                status, body = proxy._forward(self.path)
                if mode == "wrong" and status == 200:
                    served = json.loads(body)["data"]
                    body = json.dumps({"data": ["0x" + OTHER_BLOB.hex()] * len(served)}).encode()
                return self._send(status, body)

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _forward(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.upstream + path, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


CHEATER = 4
CHALLENGER = 9


def setup_rollup(env):
    """Honest calldata batch 0 (three funded accounts, keys registered, one transfer)."""
    env.bond(0)
    env.register(1, 2, 3)
    for i in (1, 2, 3):
        env.deposit_eth(i, 10**18)
    op = env.operator()
    op.step([sign_transfer(env.bls(1), env.dst, 0, 1, 10**17, 0, 0)])
    return op


def honest_blob_batches(env, op, rounds):
    """Post `rounds` honest batches (one transfer each) in one blob posting; the operator's
    state follows them. Returns the commitments per batch."""
    batches = []
    state = op.state
    for r in rounds:
        built, state = op_build(op, state, r)
        batches.append([bc.commitment for bc in built.commitments])
    post_commitments(env, 0, batches)
    op.state = state
    return batches


def op_build(op, state, txs):
    """The operator's next batch of `txs` on `state` (not posted)."""
    queue = op.l1.deposit_queue()
    return build_batch(state, queue[state.deposit_end :], txs, fee_account=op.fee_account)
