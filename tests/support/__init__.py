"""The shared test-support package (issue 13): what several test folders used to copy.

Imported as `support` (tests/ is on sys.path through tests/conftest.py, the rootdir conftest), a
package name no test folder reuses, so two folders on one `ape test` command line never shadow
each other's helpers:

- `support.chain`: Anvil's clock (`advance`, `mine_after`, `latest_timestamp`);
- `support.keys`: private keys of Ape test accounts as bytes or hex, address recipients;
- `support.reverts`: custom-error selectors and `assert_reverts` through web3's eth_call;
- `support.rollup_env`: the one `Env` of the optimistic-rollup tests and `deploy_env`, which
  deploys through `offchain.deploy.deploy_all`.

Still per folder (left for a later pass, they are not copies): tests/operator's batcher and
PostgreSQL harness (`operator_helpers`, `pg_fixtures`, `service_proc`, which tests/cli and tests/zk
load by path), tests/zk's fixtures (GPL, collected only with the zk extra), tests/channels'
signers and clock, tests/governance's deploy, tests/cli's in-process runner (`conftest`)."""
