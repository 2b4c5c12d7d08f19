"""Payment channels: co-signed states, channel nodes over TCP, routing, watchtower.

Modules, one job each:
  model     frozen data types (State, Lock, SignedState) and their JSON form
  crypto    EIP-712 hashing (matches ChannelAdjudicator), low-s signing and recovery
  merkle    the locks root and proofs (sorted-pair keccak, as OpenZeppelin MerkleProof)
  machine   the pure channel state machine: (view, input) -> (view, events)
  store     SQLite (WAL) persistence of channel views and secrets
  wire      length-prefixed, signed JSON messages
  router    path finding over the channel graph by capacity and fee
  chain     web3.py client of the adjudicator contract
  node      the asyncio TCP node tying it together
  watchtower  follows ChannelClosed events and disputes stale closes for its clients
"""
