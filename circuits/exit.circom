// SPDX-License-Identifier: GPL-3.0-or-later
// l2kit zk rollup: emergency exit from the last proven root of a frozen rollup.
pragma circom 2.0.0;

include "poseidon.circom";
include "bitify.circom";
include "eddsaposeidon.circom";
include "common.circom";
include "merkle.circom";

// Public inputs: root, domain, leafToken = leafIndex << 160 | token, balance, recipient.
// Proves the leaf (key, token, balance, nonce) is in the tree under `root` and that its key signed
// Poseidon(domain, 3, leafIndex, recipient, balance, nonce): tag 3 is the forced-withdrawal kind,
// which the batch circuit never checks a signature for, so an exit signature can never pass as a
// signed transfer or withdrawal, and vice versa. The same proof, against a root the rollup
// accepted, authorises a forced withdrawal of the leaf to `recipient` (ZkRollup
// `requestForcedWithdrawal`): both mean "pay this leaf's balance to `recipient` on L1".
template Exit(depth) {
    signal input root;
    signal input domain;
    signal input leafToken;
    signal input balance;
    signal input recipient;

    signal input ax;
    signal input ay;
    signal input nonce;
    signal input siblings[depth];
    signal input sigR8x;
    signal input sigR8y;
    signal input sigS;

    component split = Num2Bits(192);
    split.in <== leafToken;
    component tokenNum = Bits2Num(160);
    component indexNum = Bits2Num(32);
    for (var i = 0; i < 160; i++) {
        tokenNum.in[i] <== split.out[i];
    }
    for (var i = 0; i < 32; i++) {
        indexNum.in[i] <== split.out[160 + i];
        if (i >= depth) {
            split.out[160 + i] === 0;
        }
    }
    component recipientRange = Num2Bits(160);
    recipientRange.in <== recipient;

    component leaf = LeafHash();
    leaf.ax <== ax;
    leaf.ay <== ay;
    leaf.token <== tokenNum.out;
    leaf.balance <== balance;
    leaf.nonce <== nonce;
    component path = MerkleRoot(depth);
    path.leaf <== leaf.out;
    for (var i = 0; i < depth; i++) {
        path.pathBits[i] <== split.out[160 + i];
        path.siblings[i] <== siblings[i];
    }
    path.root === root;

    component msg = Poseidon(6);
    msg.inputs[0] <== domain;
    msg.inputs[1] <== 3;
    msg.inputs[2] <== indexNum.out;
    msg.inputs[3] <== recipient;
    msg.inputs[4] <== balance;
    msg.inputs[5] <== nonce;
    component sig = EdDSAPoseidonVerifier();
    sig.enabled <== 1;
    sig.Ax <== ax;
    sig.Ay <== ay;
    sig.S <== sigS;
    sig.R8x <== sigR8x;
    sig.R8y <== sigR8y;
    sig.M <== msg.out;
}
