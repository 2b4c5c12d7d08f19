"""L1 access shared by every service, library, client and script: the one L1 sender.

`offchain.l1.fees` is the pure fee and gas arithmetic (policy in, numbers out);
`offchain.l1.sender` is the I/O edge that signs, broadcasts, replaces and journals.
"""
