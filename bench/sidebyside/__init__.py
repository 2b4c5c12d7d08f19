"""Channel gas, l2kit against Raiden's shipped bytecode, like for like on one Anvil node.

`evm` sends signed transactions and reads receipts, `raiden` deploys and drives Raiden's
TokenNetwork from the `raiden-contracts` wheel, `l2kit` drives ChannelAdjudicator, and `compare`
runs the same scenarios on both and builds the table.
"""
