# SPDX-License-Identifier: GPL-3.0-or-later
"""The zk tests need the optional zk extra (groth16py, light-poseidon; GPL-3.0). Without it the
folder is not collected, so the MIT rest of the suite never imports offchain.zk."""

import importlib.util

ZK_EXTRA = all(
    importlib.util.find_spec(name) is not None for name in ("groth16py", "light_poseidon_python")
)

if ZK_EXTRA:
    from zk_fixtures import *  # noqa: F403
else:
    collect_ignore_glob = ["test_*.py"]
