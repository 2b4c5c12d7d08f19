// SPDX-License-Identifier: GPL-3.0-or-later
// l2kit zk rollup: one L1 deposit slot.
pragma circom 2.0.0;

include "bitify.circom";
include "comparators.circom";
include "common.circom";
include "merkle.circom";

// Public data of a slot, 72 bytes, big-endian, written by the L1 contract from the bridge queue:
//   index (4) | pubkey (32) | token (20) | amount (16)
// pubkey is the compressed BabyJubJub key: bit 255 = parity of Ax, bit 254 = 0, bits 0..253 = Ay.
// An unused slot (or a deposit the contract voided for an invalid key) is 72 zero bytes: amount 0.
// The deposit credits the leaf at `index`: an empty leaf becomes (Ax, Ay, token, amount, 0); a
// non-empty leaf must hold the same key and token and gains `amount`.
template DepositSlot(depth, balanceBits) {
    signal input prevRoot;

    // public data
    signal input index;
    signal input sign;
    signal input ay;
    signal input token;
    signal input amount;

    // leaf before the deposit
    signal input ax;
    signal input isEmpty;
    signal input balance;
    signal input nonce;
    signal input siblings[depth];

    signal output newRoot;
    signal output bits[72 * 8];

    component amountZero = IsZero();
    amountZero.in <== amount;
    signal enabled;
    enabled <== 1 - amountZero.out;

    // ---- public data bits
    component indexBits = LowBits(32, depth);
    indexBits.in <== index;
    indexBits.enabled <== 1;
    sign * (sign - 1) === 0;
    component ayBits = Num2Bits(254);
    ayBits.in <== ay;
    component tokenBytes = BytesBE(20);
    tokenBytes.in <== token;
    component amountBytes = BytesBE(16);
    amountBytes.in <== amount;
    for (var i = 0; i < 32; i++) {
        bits[i] <== indexBits.bits[31 - i];
    }
    bits[32] <== sign;
    bits[33] <== 0;
    for (var i = 0; i < 254; i++) {
        bits[34 + i] <== ayBits.out[253 - i];
    }
    for (var i = 0; i < 160; i++) {
        bits[288 + i] <== tokenBytes.out[i];
    }
    for (var i = 0; i < 128; i++) {
        bits[448 + i] <== amountBytes.out[i];
    }

    // ---- decompress the key: Ax is the curve point's x of the stated parity (strict bits, so
    // the prover cannot pick the other root through an alias above the field modulus)
    component axBits = Num2Bits_strict();
    axBits.in <== ax;
    axBits.out[0] === sign;
    signal x2;
    signal y2;
    signal x2y2;
    x2 <== ax * ax;
    y2 <== ay * ay;
    x2y2 <== x2 * y2;
    // BabyJubJub: 168700 x^2 + y^2 = 1 + 168696 x^2 y^2
    (168700 * x2 + y2 - 1 - 168696 * x2y2) * enabled === 0;

    // ---- the leaf before: empty (0) or this key and token
    isEmpty * (isEmpty - 1) === 0;
    isEmpty * balance === 0;
    isEmpty * nonce === 0;
    component oldLeaf = LeafHash();
    oldLeaf.ax <== ax;
    oldLeaf.ay <== ay;
    oldLeaf.token <== token;
    oldLeaf.balance <== balance;
    oldLeaf.nonce <== nonce;
    signal oldLeafValue;
    oldLeafValue <== oldLeaf.out * (1 - isEmpty);
    component oldRoot = MerkleRoot(depth);
    oldRoot.leaf <== oldLeafValue;
    for (var i = 0; i < depth; i++) {
        oldRoot.pathBits[i] <== indexBits.out[i];
        oldRoot.siblings[i] <== siblings[i];
    }
    (oldRoot.root - prevRoot) * enabled === 0;

    signal newBalance;
    newBalance <== balance + amount;
    component newBalanceRange = Num2Bits(balanceBits);
    newBalanceRange.in <== newBalance;
    component newLeaf = LeafHash();
    newLeaf.ax <== ax;
    newLeaf.ay <== ay;
    newLeaf.token <== token;
    newLeaf.balance <== newBalance;
    newLeaf.nonce <== nonce;
    component newRootC = MerkleRoot(depth);
    newRootC.leaf <== newLeaf.out;
    for (var i = 0; i < depth; i++) {
        newRootC.pathBits[i] <== indexBits.out[i];
        newRootC.siblings[i] <== siblings[i];
    }
    newRoot <== prevRoot + enabled * (newRootC.root - prevRoot);
}
