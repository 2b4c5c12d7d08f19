"""Still here until they move: the validator (offchain/validator/), L1 sender (offchain/l1/)."""
