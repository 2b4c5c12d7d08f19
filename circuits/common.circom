// SPDX-License-Identifier: GPL-3.0-or-later
// l2kit zk rollup: small helpers shared by the transaction and deposit slots.
pragma circom 2.0.0;

include "poseidon.circom";
include "bitify.circom";

// Account leaf: Poseidon(Ax, Ay, token, balance, nonce).
template LeafHash() {
    signal input ax;
    signal input ay;
    signal input token;
    signal input balance;
    signal input nonce;
    signal output out;
    component h = Poseidon(5);
    h.inputs[0] <== ax;
    h.inputs[1] <== ay;
    h.inputs[2] <== token;
    h.inputs[3] <== balance;
    h.inputs[4] <== nonce;
    out <== h.out;
}

// The `nBytes` big-endian bytes of `in` as bits, most significant first (SHA-256 order).
// Constrains `in < 2^(8*nBytes)`.
template BytesBE(nBytes) {
    signal input in;
    signal output out[nBytes * 8];
    component n2b = Num2Bits(nBytes * 8);
    n2b.in <== in;
    for (var i = 0; i < nBytes * 8; i++) {
        out[i] <== n2b.out[nBytes * 8 - 1 - i];
    }
}

// `in` as `n` bits (least significant first) with every bit from `low` upwards forced to zero
// when `enabled` is 1; returns the low bits. Used for leaf indices that must fit the tree.
template LowBits(n, low) {
    signal input in;
    signal input enabled;
    signal output out[low];
    signal output bits[n];
    component n2b = Num2Bits(n);
    n2b.in <== in;
    for (var i = 0; i < n; i++) {
        bits[i] <== n2b.out[i];
        if (i >= low) {
            n2b.out[i] * enabled === 0;
        } else {
            out[i] <== n2b.out[i];
        }
    }
}
