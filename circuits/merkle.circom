// SPDX-License-Identifier: GPL-3.0-or-later
// l2kit zk rollup: Poseidon Merkle path (binary tree, empty leaf = 0).
pragma circom 2.0.0;

include "poseidon.circom";

// Root of the tree holding `leaf` at the position whose bits (least significant first: bit i set
// means the node is a right child at level i) are `pathBits`, with `siblings[i]` the sibling at
// level i. The caller constrains `pathBits` to be bits.
template MerkleRoot(depth) {
    signal input leaf;
    signal input pathBits[depth];
    signal input siblings[depth];
    signal output root;

    component hashers[depth];
    signal left[depth];
    signal right[depth];
    signal cur[depth + 1];
    cur[0] <== leaf;
    for (var i = 0; i < depth; i++) {
        // left = bit ? sibling : cur, right = bit ? cur : sibling
        left[i] <== cur[i] + pathBits[i] * (siblings[i] - cur[i]);
        right[i] <== cur[i] + siblings[i] - left[i];
        hashers[i] = Poseidon(2);
        hashers[i].inputs[0] <== left[i];
        hashers[i].inputs[1] <== right[i];
        cur[i + 1] <== hashers[i].out;
    }
    root <== cur[depth];
}
