"""Write tests/blobs/vectors.json (run once; the tests check the code against the file).

    python tests/blobs/make_blob_vectors.py

A short payload's blob is stored as the prefix before its trailing zeros ("blob_prefixes"; the
rest of the 131,072 bytes is zero); every blob also by its SHA-256 ("blob_sha256"), and a long
payload, one repeated byte, as [byte, count] ("payload_fill"). docs/blobs.md spells out the
"two_elements" vector byte by byte.
"""

import json
from hashlib import sha256
from pathlib import Path

from offchain.blobs import encode, kzg

PAYLOADS = {
    "empty": b"",
    "hello": b"hello blobs",
    "one_element_exactly": bytes(range(26)),
    "two_elements": bytes(range(1, 40)),
    "all_ff_300": b"\xff" * 300,
    "one_blob_full": bytes([0xAB]) * (4096 * 31 - 5),
    "two_blobs_minimal": bytes([0xCD]) * (4096 * 31 - 4),
}
OPEN = [("hello", 0, 0), ("two_elements", 0, 1), ("all_ff_300", 0, 9), ("two_blobs_minimal", 1, 0)]


def main() -> None:
    enc = []
    blobs_of = {}
    for name, payload in PAYLOADS.items():
        blobs = encode(payload)
        blobs_of[name] = blobs
        vector = {"name": name, "blob_sha256": [sha256(b).hexdigest() for b in blobs]}
        if len(payload) > 1000:  # long payloads are one repeated byte: store byte and count
            vector["payload_fill"] = [payload[0], len(payload)]
        else:
            vector["payload"] = payload.hex()
            vector["blob_prefixes"] = [b.rstrip(b"\0").hex() for b in blobs]
        vector["versioned_hashes"] = ["0x" + kzg.blob_versioned_hash(b).hex() for b in blobs]
        enc.append(vector)
    openings = []
    for name, b, index in OPEN:
        o = kzg.open_element(blobs_of[name][b], index)
        openings.append(
            {
                "payload": name,
                "blob": b,
                "index": index,
                "z": "0x" + o.z.hex(),
                "y": "0x" + o.value.hex(),
                "commitment": "0x" + o.commitment.hex(),
                "proof": "0x" + o.proof.hex(),
                "versioned_hash": "0x" + o.versioned_hash.hex(),
            }
        )
    out = {"encoding": enc, "openings": openings}
    path = Path(__file__).with_name("vectors.json")
    path.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
