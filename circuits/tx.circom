// SPDX-License-Identifier: GPL-3.0-or-later
// l2kit zk rollup: one L2 transaction slot (no-op, transfer, withdrawal or forced withdrawal).
pragma circom 2.0.0;

include "poseidon.circom";
include "bitify.circom";
include "comparators.circom";
include "eddsaposeidon.circom";
include "common.circom";
include "merkle.circom";

// Public data of a slot (format v2, docs/zk.md "Public data"): the compact slot, big-endian bits
//   type (2) | from (depth) | to (depth) | amount mantissa (35) | amount exponent (5)
// type 0 = no-op (every field zero), 1 = transfer (`to` is an L2 leaf index, the amount is the
// canonical float mantissa * 10^exponent: largest exponent <= 31, 0 as 0),
// 2 = withdrawal (`to` = the L1 address paid, non-zero; amount non-zero),
// 3 = forced withdrawal (`to` = the L1 address paid, non-zero; amount is the leaf's whole
//     balance, possibly 0, capped at 2^128 - 1). It carries no signature: the L1 contract only
//     accepts a type-3 slot that matches the head of its forced-withdrawal queue, whose entries
//     the leaf's key authorised on L1 (docs/zk.md, "Forced withdrawals").
// Payout slots (types 2 and 3) have `to` and the float zero in the compact slot: their L1
// address, token and exact 128-bit amount are in a payout record (rollup.circom matches them).
// The sender of a transfer or withdrawal signs Poseidon(domain, type, from, to, amount, nonce)
// with BabyJubJub EdDSA.
template TxSlot(depth, balanceBits) {
    signal input prevRoot;
    signal input domain;

    // public data
    signal input txType;
    signal input from;
    signal input to;
    signal input amount;
    signal input token;
    signal input amountMant;
    signal input amountExp;

    // sender leaf and signature
    signal input nonce;
    signal input ax;
    signal input ay;
    signal input balance;
    signal input fromSiblings[depth];
    signal input sigR8x;
    signal input sigR8y;
    signal input sigS;

    // receiver leaf (transfers only)
    signal input toAx;
    signal input toAy;
    signal input toBalance;
    signal input toNonce;
    signal input toSiblings[depth];

    signal output newRoot;
    signal output payout;
    signal output bits[2 + 2 * depth + 40];

    // ---- kind of slot: exactly one of no-op, transfer, withdrawal, forced withdrawal
    component isNoop = IsZero();
    isNoop.in <== txType;
    component isTransfer = IsEqual();
    isTransfer.in[0] <== txType;
    isTransfer.in[1] <== 1;
    component isWithdraw = IsEqual();
    isWithdraw.in[0] <== txType;
    isWithdraw.in[1] <== 2;
    component isForced = IsEqual();
    isForced.in[0] <== txType;
    isForced.in[1] <== 3;
    isNoop.out + isTransfer.out + isWithdraw.out + isForced.out === 1;
    // signed: the sender's signature is checked; active: the sender leaf is updated;
    // payout: `to` is an L1 address that the contract pays.
    signal signed;
    signed <== isTransfer.out + isWithdraw.out;
    signal active;
    active <== signed + isForced.out;
    payout <== isWithdraw.out + isForced.out;

    // ---- public data bits (also range checks: from < 2^depth, to < 2^depth for transfers)
    component typeBits = Num2Bits(2);
    typeBits.in <== txType;
    component fromBits = LowBits(32, depth);
    fromBits.in <== from;
    fromBits.enabled <== 1;
    component toBits = LowBits(160, depth);
    toBits.in <== to;
    toBits.enabled <== isTransfer.out;
    component amountRange = Num2Bits(128);
    amountRange.in <== amount;

    // ---- the transfer amount as a canonical float: amount == mantissa * 10^exponent
    component mantBits = Num2Bits(35);
    mantBits.in <== amountMant;
    component expBits = Num2Bits(5);
    expBits.in <== amountExp;
    signal pow[6];
    pow[0] <== 1;
    for (var i = 0; i < 5; i++) {
        pow[i + 1] <== pow[i] * (1 + expBits.out[i] * (10 ** (1 << i) - 1));
    }
    signal scaled;
    scaled <== amountMant * pow[5];
    isTransfer.out * (amount - scaled) === 0;
    (1 - isTransfer.out) * amountMant === 0;
    (1 - isTransfer.out) * amountExp === 0;
    // INVARIANT: one encoding per amount (the largest exponent): a mantissa divisible by 10 only
    // at exponent 31, and 0 only as mantissa 0, exponent 0.
    signal mantQ;
    signal mantR;
    mantQ <-- amountMant \ 10;
    mantR <-- amountMant % 10;
    amountMant === 10 * mantQ + mantR;
    component qRange = Num2Bits(32);
    qRange.in <== mantQ;
    component rLess = LessThan(4);
    rLess.in[0] <== mantR;
    rLess.in[1] <== 10;
    rLess.out === 1;
    component rZero = IsZero();
    rZero.in <== mantR;
    component mantZero = IsZero();
    mantZero.in <== amountMant;
    component expMax = IsEqual();
    expMax.in[0] <== amountExp;
    expMax.in[1] <== 31;
    signal divisible;
    divisible <== rZero.out * (1 - expMax.out);
    divisible * (1 - mantZero.out) === 0;
    mantZero.out * amountExp === 0;

    bits[0] <== typeBits.out[1];
    bits[1] <== typeBits.out[0];
    for (var i = 0; i < depth; i++) {
        bits[2 + i] <== fromBits.out[depth - 1 - i];
    }
    signal toPub[depth];
    for (var i = 0; i < depth; i++) {
        toPub[i] <== isTransfer.out * toBits.out[depth - 1 - i];
        bits[2 + depth + i] <== toPub[i];
    }
    for (var i = 0; i < 35; i++) {
        bits[2 + 2 * depth + i] <== mantBits.out[34 - i];
    }
    for (var i = 0; i < 5; i++) {
        bits[37 + 2 * depth + i] <== expBits.out[4 - i];
    }

    // ---- a no-op slot is all zero bytes (one encoding per batch)
    isNoop.out * from === 0;
    isNoop.out * to === 0;
    isNoop.out * amount === 0;
    isNoop.out * token === 0;

    // ---- a withdrawal pays a non-zero amount to a non-zero L1 address; a forced one pays a
    //      non-zero L1 address (its amount is checked below: the whole balance)
    component toZero = IsZero();
    toZero.in <== to;
    payout * toZero.out === 0;
    component amountZero = IsZero();
    amountZero.in <== amount;
    isWithdraw.out * amountZero.out === 0;

    // ---- the sender signed exactly this transaction (domain binds chain id and rollup)
    component msg = Poseidon(6);
    msg.inputs[0] <== domain;
    msg.inputs[1] <== txType;
    msg.inputs[2] <== from;
    msg.inputs[3] <== to;
    msg.inputs[4] <== amount;
    msg.inputs[5] <== nonce;
    component sig = EdDSAPoseidonVerifier();
    sig.enabled <== signed;
    sig.Ax <== ax;
    sig.Ay <== ay;
    sig.S <== sigS;
    sig.R8x <== sigR8x;
    sig.R8y <== sigR8y;
    sig.M <== msg.out;

    // ---- sender: the leaf is in the tree, then balance - amount (no underflow), nonce + 1
    component oldFrom = LeafHash();
    oldFrom.ax <== ax;
    oldFrom.ay <== ay;
    oldFrom.token <== token;
    oldFrom.balance <== balance;
    oldFrom.nonce <== nonce;
    component oldFromRoot = MerkleRoot(depth);
    oldFromRoot.leaf <== oldFrom.out;
    for (var i = 0; i < depth; i++) {
        oldFromRoot.pathBits[i] <== fromBits.out[i];
        oldFromRoot.siblings[i] <== fromSiblings[i];
    }
    (oldFromRoot.root - prevRoot) * active === 0;

    signal newBalance;
    newBalance <== balance - amount;
    // INVARIANT: balances stay in [0, 2^balanceBits): an overspend wraps around the field and fails.
    component newBalanceRange = Num2Bits(balanceBits);
    newBalanceRange.in <== newBalance;
    // INVARIANT: a forced withdrawal pays min(balance, 2^128 - 1): it empties the leaf, or pays
    // the most a slot can carry when the balance is larger (so every request can be served).
    // The prover cannot pay out less.
    signal forcedRest;
    forcedRest <== isForced.out * newBalance;
    forcedRest * (amount - ((1 << 128) - 1)) === 0;

    component newFrom = LeafHash();
    newFrom.ax <== ax;
    newFrom.ay <== ay;
    newFrom.token <== token;
    newFrom.balance <== newBalance;
    newFrom.nonce <== nonce + 1;
    component newFromRoot = MerkleRoot(depth);
    newFromRoot.leaf <== newFrom.out;
    for (var i = 0; i < depth; i++) {
        newFromRoot.pathBits[i] <== fromBits.out[i];
        newFromRoot.siblings[i] <== fromSiblings[i];
    }
    signal midRoot;
    midRoot <== prevRoot + active * (newFromRoot.root - prevRoot);

    // ---- receiver (transfers only): an existing leaf of the same token, balance + amount
    component oldTo = LeafHash();
    oldTo.ax <== toAx;
    oldTo.ay <== toAy;
    oldTo.token <== token;
    oldTo.balance <== toBalance;
    oldTo.nonce <== toNonce;
    component oldToRoot = MerkleRoot(depth);
    oldToRoot.leaf <== oldTo.out;
    for (var i = 0; i < depth; i++) {
        oldToRoot.pathBits[i] <== toBits.out[i];
        oldToRoot.siblings[i] <== toSiblings[i];
    }
    (oldToRoot.root - midRoot) * isTransfer.out === 0;

    signal newToBalance;
    newToBalance <== toBalance + amount;
    component newToRange = Num2Bits(balanceBits);
    newToRange.in <== newToBalance;

    component newTo = LeafHash();
    newTo.ax <== toAx;
    newTo.ay <== toAy;
    newTo.token <== token;
    newTo.balance <== newToBalance;
    newTo.nonce <== toNonce;
    component newToRoot = MerkleRoot(depth);
    newToRoot.leaf <== newTo.out;
    for (var i = 0; i < depth; i++) {
        newToRoot.pathBits[i] <== toBits.out[i];
        newToRoot.siblings[i] <== toSiblings[i];
    }
    newRoot <== midRoot + isTransfer.out * (newToRoot.root - midRoot);
}
