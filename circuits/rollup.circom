// SPDX-License-Identifier: GPL-3.0-or-later
// l2kit zk rollup: a batch of D deposit slots then N transaction slots over a Poseidon account
// tree of depth `depth`. Public inputs: the old root, the new root and the SHA-256 (top 3 bits
// cleared) of the packed public data
//   header (32: chainId 8 | rollup address 20 | batch index 4) | D deposit slots (72 each)
//   | N transaction slots (61 each).
pragma circom 2.0.0;

include "bitify.circom";
include "sha256/sha256.circom";
include "common.circom";
include "deposit.circom";
include "tx.circom";

template Rollup(N, D, depth) {
    var BALANCE_BITS = 192;
    var NBITS = 256 + D * 576 + N * 488;

    signal input oldRoot;
    signal input newRoot;
    signal input dataHash;

    signal input chainId;
    signal input rollup;
    signal input batchIndex;

    signal input depIndex[D];
    signal input depSign[D];
    signal input depAy[D];
    signal input depToken[D];
    signal input depAmount[D];
    signal input depAx[D];
    signal input depIsEmpty[D];
    signal input depBalance[D];
    signal input depNonce[D];
    signal input depSiblings[D][depth];

    signal input txType[N];
    signal input txFrom[N];
    signal input txTo[N];
    signal input txAmount[N];
    signal input txToken[N];
    signal input txNonce[N];
    signal input txAx[N];
    signal input txAy[N];
    signal input txBalance[N];
    signal input txFromSiblings[N][depth];
    signal input txR8x[N];
    signal input txR8y[N];
    signal input txS[N];
    signal input txToAx[N];
    signal input txToAy[N];
    signal input txToBalance[N];
    signal input txToNonce[N];
    signal input txToSiblings[N][depth];

    // ---- header
    component chainBytes = BytesBE(8);
    chainBytes.in <== chainId;
    component rollupBytes = BytesBE(20);
    rollupBytes.in <== rollup;
    component batchBytes = BytesBE(4);
    batchBytes.in <== batchIndex;
    signal domain;
    domain <== chainId * (1 << 160) + rollup;

    component sha = Sha256(NBITS);
    for (var i = 0; i < 64; i++) {
        sha.in[i] <== chainBytes.out[i];
    }
    for (var i = 0; i < 160; i++) {
        sha.in[64 + i] <== rollupBytes.out[i];
    }
    for (var i = 0; i < 32; i++) {
        sha.in[224 + i] <== batchBytes.out[i];
    }

    // ---- deposits, in queue order
    signal roots[D + N + 1];
    roots[0] <== oldRoot;
    component deps[D];
    for (var j = 0; j < D; j++) {
        deps[j] = DepositSlot(depth, BALANCE_BITS);
        deps[j].prevRoot <== roots[j];
        deps[j].index <== depIndex[j];
        deps[j].sign <== depSign[j];
        deps[j].ay <== depAy[j];
        deps[j].token <== depToken[j];
        deps[j].amount <== depAmount[j];
        deps[j].ax <== depAx[j];
        deps[j].isEmpty <== depIsEmpty[j];
        deps[j].balance <== depBalance[j];
        deps[j].nonce <== depNonce[j];
        for (var i = 0; i < depth; i++) {
            deps[j].siblings[i] <== depSiblings[j][i];
        }
        roots[j + 1] <== deps[j].newRoot;
        for (var i = 0; i < 576; i++) {
            sha.in[256 + j * 576 + i] <== deps[j].bits[i];
        }
    }

    // ---- transactions
    component txs[N];
    for (var t = 0; t < N; t++) {
        txs[t] = TxSlot(depth, BALANCE_BITS);
        txs[t].prevRoot <== roots[D + t];
        txs[t].domain <== domain;
        txs[t].txType <== txType[t];
        txs[t].from <== txFrom[t];
        txs[t].to <== txTo[t];
        txs[t].amount <== txAmount[t];
        txs[t].token <== txToken[t];
        txs[t].nonce <== txNonce[t];
        txs[t].ax <== txAx[t];
        txs[t].ay <== txAy[t];
        txs[t].balance <== txBalance[t];
        txs[t].sigR8x <== txR8x[t];
        txs[t].sigR8y <== txR8y[t];
        txs[t].sigS <== txS[t];
        txs[t].toAx <== txToAx[t];
        txs[t].toAy <== txToAy[t];
        txs[t].toBalance <== txToBalance[t];
        txs[t].toNonce <== txToNonce[t];
        for (var i = 0; i < depth; i++) {
            txs[t].fromSiblings[i] <== txFromSiblings[t][i];
            txs[t].toSiblings[i] <== txToSiblings[t][i];
        }
        roots[D + t + 1] <== txs[t].newRoot;
        for (var i = 0; i < 488; i++) {
            sha.in[256 + D * 576 + t * 488 + i] <== txs[t].bits[i];
        }
    }

    // INVARIANT: the new root is the result of applying exactly the public data to the old root.
    newRoot === roots[D + N];

    // ---- the public data hash: SHA-256 with its 3 most significant bits cleared (fits the field)
    var acc = 0;
    for (var k = 3; k < 256; k++) {
        acc += sha.out[k] * (1 << (255 - k));
    }
    dataHash === acc;
}
