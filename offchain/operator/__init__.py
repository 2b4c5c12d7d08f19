"""Services still to move: the validator (to offchain/validator/) and the L1 sender (offchain/l1/)."""
