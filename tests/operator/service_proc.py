"""Start and drive the batcher service as a real process (for the crash and e2e tests)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def service_args(store: Path | str, extra: tuple[str, ...] = ()) -> list[str]:
    """The command line of the tests' batcher: local network, any free port, small batches."""
    return [
        "--network",
        "ethereum:local",
        "--store",
        str(store),
        "--port",
        "0",
        "--max-batch-txs",
        "4",
        "--max-batch-delay",
        "0.3",
        "--progress-every",
        "0",
        # Calldata unless a test asks otherwise (the default, auto, takes blobs on Anvil).
        *(() if "--da" in extra else ("--da", "calldata")),
        *extra,
    ]


class ServiceProcess:
    def __init__(
        self,
        store: Path,
        deployments: Path,
        key: str,
        failpoint: str | None = None,
        extra: tuple[str, ...] = (),
    ) -> None:
        env = dict(
            os.environ,
            L2KIT_DEPLOYMENTS=str(deployments),
            L2KIT_PROPOSER_KEY=key,
            PYTHONPATH=str(ROOT),
        )
        env.pop("L2KIT_FAILPOINT", None)
        if failpoint:
            env["L2KIT_FAILPOINT"] = failpoint
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "offchain.sequencer.service", *service_args(store, extra)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.url = self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith("READY "):
                return line.split()[1]
            if not line and self.proc.poll() is not None:
                raise RuntimeError(f"batcher exited early:\n{self.proc.stderr.read()}")
        raise RuntimeError("batcher did not become ready")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
