"""Named crash points for the restart tests: `L2KIT_FAILPOINT=name[:n]` kills the process
(SIGKILL, no clean-up) the n-th time (default first) execution reaches `hit("name")`.
Unset in production, where `hit` is a dictionary lookup and nothing else."""

from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}


def hit(name: str) -> None:
    spec = os.environ.get("L2KIT_FAILPOINT")
    if not spec:
        return
    target, _, nth = spec.partition(":")
    if target != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
