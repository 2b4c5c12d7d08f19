// SPDX-License-Identifier: GPL-3.0-or-later
// l2kit zk rollup: a batch of D deposit slots then N transaction slots over a Poseidon account
// tree of depth `depth`. Public inputs: the old root, the new root and the SHA-256 (top 3 bits
// cleared) of the packed public data, format v2 (docs/zk.md "Public data"):
//   header (32: chainId 8 | rollup address 20 | batch index 4) | D deposit slots (72 each)
//   | N compact slots (ceil((2 + 2 depth + 40) / 8) bytes each, tx.circom)
//   | W payout records (56 each: L1 address 20 | token 20 | amount 16), one per payout slot
//     (withdrawal or forced withdrawal) in slot order, the unused ones zero.
pragma circom 2.0.0;

include "bitify.circom";
include "sha256/sha256.circom";
include "common.circom";
include "deposit.circom";
include "tx.circom";

template Rollup(N, D, W, depth) {
    var BALANCE_BITS = 192;
    var SLOT_BITS = 2 + 2 * depth + 40;
    var SLOT_PADDED = ((SLOT_BITS + 7) \ 8) * 8;
    var TX_START = 256 + D * 576;
    var REC_START = TX_START + N * SLOT_PADDED;
    var NBITS = REC_START + W * 448;

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
    signal input txMant[N];
    signal input txExp[N];
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

    signal input recTo[W];
    signal input recToken[W];
    signal input recAmount[W];

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
        txs[t].amountMant <== txMant[t];
        txs[t].amountExp <== txExp[t];
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
        for (var i = 0; i < SLOT_BITS; i++) {
            sha.in[TX_START + t * SLOT_PADDED + i] <== txs[t].bits[i];
        }
        for (var i = SLOT_BITS; i < SLOT_PADDED; i++) {
            sha.in[TX_START + t * SLOT_PADDED + i] <== 0;
        }
    }

    // ---- payout records: the k-th payout slot (in slot order) pays recTo[k] recAmount[k] of
    //      recToken[k]; records no slot uses are zero (one encoding per batch)
    component recToBytes[W];
    component recTokenBytes[W];
    component recAmountBytes[W];
    for (var k = 0; k < W; k++) {
        recToBytes[k] = BytesBE(20);
        recToBytes[k].in <== recTo[k];
        recTokenBytes[k] = BytesBE(20);
        recTokenBytes[k].in <== recToken[k];
        recAmountBytes[k] = BytesBE(16);
        recAmountBytes[k].in <== recAmount[k];
        for (var i = 0; i < 160; i++) {
            sha.in[REC_START + k * 448 + i] <== recToBytes[k].out[i];
            sha.in[REC_START + k * 448 + 160 + i] <== recTokenBytes[k].out[i];
        }
        for (var i = 0; i < 128; i++) {
            sha.in[REC_START + k * 448 + 320 + i] <== recAmountBytes[k].out[i];
        }
    }
    signal payoutsBefore[N + 1];
    payoutsBefore[0] <== 0;
    component isRecord[N][W];
    signal sel[N][W];
    var used[W];
    for (var k = 0; k < W; k++) {
        used[k] = 0;
    }
    for (var t = 0; t < N; t++) {
        payoutsBefore[t + 1] <== payoutsBefore[t] + txs[t].payout;
        var any = 0;
        for (var k = 0; k < W; k++) {
            isRecord[t][k] = IsEqual();
            isRecord[t][k].in[0] <== payoutsBefore[t];
            isRecord[t][k].in[1] <== k;
            sel[t][k] <== isRecord[t][k].out * txs[t].payout;
            sel[t][k] * (txTo[t] - recTo[k]) === 0;
            sel[t][k] * (txToken[t] - recToken[k]) === 0;
            sel[t][k] * (txAmount[t] - recAmount[k]) === 0;
            any += sel[t][k];
            used[k] += sel[t][k];
        }
        // INVARIANT: every payout slot has its record (at most W payouts per batch).
        any === txs[t].payout;
    }
    for (var k = 0; k < W; k++) {
        (1 - used[k]) * recTo[k] === 0;
        (1 - used[k]) * recToken[k] === 0;
        (1 - used[k]) * recAmount[k] === 0;
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
