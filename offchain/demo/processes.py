"""Start the operator services as real processes for the demo, with their logs in files."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Service:
    """One service process (`python -m <module> ...`) that prints `READY ...` when it serves."""

    def __init__(
        self, name: str, module: str, args: list[str], env: dict[str, str], log_dir: Path
    ) -> None:
        self.name = name
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("w")
        full_env = dict(os.environ, PYTHONPATH=str(ROOT), **env)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        if self.proc.stdout is None:  # stdout=PIPE: Popen always opens it
            raise RuntimeError(f"{name}: no stdout pipe")
        self._stdout = self.proc.stdout
        self.ready_line = self._wait_ready()

    def _wait_ready(self, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self._stdout.readline()
            if line.startswith("READY"):
                return line.strip()
            if not line and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: see {self.log_path}")
        raise RuntimeError(f"{self.name} did not start in {timeout:.0f} s: see {self.log_path}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
