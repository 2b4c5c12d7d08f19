#!/usr/bin/env bash
# Run the whole suite as two groups at once, one per core (what `make test` calls; `make test-fast`
# calls it with --fast: -m "not slow", and tests/cli moves to group 1, see below).
#
# Each group is its own `ape test` process with its own Anvil node (ape-config.yaml picks a free
# port), so the groups share nothing but the files below, which only one group writes:
#   group 1 (CPU-bound): zk proving, blobs, BLS, governance, bridge, tools;
#   group 2 (mostly waiting on fsync and sockets): channels, operator, sequencer, rollup,
#                        rollup2, forced, offchain; then cli and e2e (each test deploys into its
#                        own temporary deployments directory).
# Balance (fresh clones, 2026-12-02): group 1 (zk ... governance) 19:37; group 2's first command
# with bridge and tools 16:48, then cli 5:07 and e2e 1:32; bridge and tools (about 2 min with the
# invariant and gas-snapshot tests) went back to group 1 so both end near 21 min.
# Without the slow tests (--fast) group 1 loses most of its zk proving, and tests/rollup, whose
# tests each deploy the whole stack through deploy_all (proxies, council, timelock), is the
# longest folder (2026-12-02, quiet box: group 1's folders 2:55, channels + operator + sequencer
# about 2:50, tests/rollup 4:39, rollup2 + forced + offchain 0:28, cli 0:38): --fast runs
# channels, operator and sequencer after group 1's folders, and tests/rollup with the small
# folders, cli and e2e in group 2 (the split before gave group 1 3:33, group 2 8:00; 8:07 wall).
# tests/cli runs on its own command line (its bare `conftest` import collides with the others').
# Output of each group goes to .build/test-logs/<group>.log and is printed when both are done; the
# exit status is non-zero if any group failed. Extra arguments are passed to every `ape test`.
set -u -o pipefail

LOGS=.build/test-logs
mkdir -p "$LOGS"
FAST=0
if [ "${1:-}" = "--fast" ]; then
    FAST=1
    shift
    set -- -m "not slow" "$@"
fi
# --tb=short: a failure shows the test's own frames, not pytest's and pluggy's with their locals
ARGS=(-q --tb=short --durations=15 "$@")

# `ape test`, where "every test deselected" (pytest's exit 5: `make test-fast` on tests/e2e, whose
# tests are all slow) is not a failure
run() {
    ape test "$@"
    local rc=$?
    [ "$rc" -eq 5 ] && rc=0
    return "$rc"
}

group1() {
    local rc=0
    run tests/zk tests/blobs tests/bls tests/governance tests/bridge tests/tools "${ARGS[@]}" || rc=1
    if [ "$FAST" -eq 1 ]; then
        run tests/channels tests/operator tests/sequencer "${ARGS[@]}" || rc=1
    fi
    return $rc
}

group2() {
    # every command runs even if an earlier one failed; the group fails if any did
    local rc=0
    if [ "$FAST" -eq 1 ]; then
        run tests/rollup tests/rollup2 tests/forced tests/offchain "${ARGS[@]}" || rc=1
    else
        run tests/channels tests/operator tests/sequencer tests/rollup tests/rollup2 \
            tests/forced tests/offchain "${ARGS[@]}" || rc=1
    fi
    run tests/cli "${ARGS[@]}" || rc=1
    run tests/e2e "${ARGS[@]}" || rc=1
    return $rc
}

start=$(date +%s)
group1 >"$LOGS/group1.log" 2>&1 &
pid1=$!
group2 >"$LOGS/group2.log" 2>&1 &
pid2=$!
wait "$pid1"; rc1=$?
wait "$pid2"; rc2=$?

for g in 1 2; do
    echo "==================== test group $g ($LOGS/group$g.log)"
    cat "$LOGS/group$g.log"
done
echo "==================== group 1: exit $rc1, group 2: exit $rc2, $(( $(date +%s) - start )) s"
# every test folder must belong to a group: a new folder that is in neither fails the run
missing=$(for d in tests/*/; do
    case " zk blobs bls governance bridge tools cli e2e channels operator sequencer rollup rollup2 forced offchain " in
        *" $(basename "$d") "*) ;;
        *) [ -n "$(find "$d" -name 'test_*.py' -print -quit)" ] && echo "$d" ;;
    esac
done)
if [ -n "$missing" ]; then
    echo "test folders in no group (add them to tools/test_groups.sh): $missing"
    exit 1
fi
[ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ]
