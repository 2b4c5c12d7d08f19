"""Payment channels: co-signed states, channel nodes over TCP, routing, watchtower.

Modules, one job each:
  model     frozen data types (State, Lock, SignedState), ErrorCode, and their JSON form
  crypto    EIP-712 hashing (matches ChannelAdjudicator; precomputed type hashes and domain
            separators, one keccak per struct), low-s signing and recovery
  merkle    the locks root and proofs (sorted-pair keccak, as OpenZeppelin MerkleProof)
  machine   the pure channel state machine: (view, input) -> (view, events), batched updates,
            adjust and close transitions
  mediator  the pure mediator: lock admission, fees, expiries, when to go on chain
  recovery  the pure lock rules over time
  store     SQLite (WAL) persistence of channel views and secrets, group commit
  wire      the v2 wire: typed msgpack messages in signed, length-prefixed frames
  router    path finding over the channel graph by capacity and fee
  chain     web3.py client of the adjudicator contract
  node      the asyncio TCP node: transport and executor of the pure machines' decisions
  watchtower  follows ChannelClosed events and disputes stale closes for its clients
"""
