# SPDX-License-Identifier: GPL-3.0-or-later
"""The zk tests need the optional zk extra (groth16py, light-poseidon; GPL-3.0). Without it the
folder is not collected, so the MIT rest of the suite never imports offchain.zk."""

import importlib.util
import sys
from pathlib import Path

ZK_EXTRA = all(
    importlib.util.find_spec(name) is not None for name in ("groth16py", "light_poseidon_python")
)

if ZK_EXTRA:
    from zk_fixtures import *  # noqa: F403

    # The PostgreSQL fixtures of tests/operator (the crash tests run on both stores).
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operator"))
    from pg_fixtures import pg_server, pg_url  # noqa: F401
else:
    collect_ignore_glob = ["test_*.py"]
