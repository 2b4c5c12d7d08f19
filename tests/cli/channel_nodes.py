"""Channel node services as processes for the CLI tests: `l2kit channels node` started the way a
user starts it, read until it prints its peer port and API URL, stopped with SIGTERM."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODE = [sys.executable, "-m", "offchain.cli", "channels", "node"]
TOWER = [sys.executable, "-m", "offchain.cli", "channels", "tower"]


class NodeService:
    """`l2kit channels node` (or, with `command=TOWER`, `l2kit channels tower`) as a process."""

    def __init__(
        self,
        name: str,
        key: str,
        tmp: Path,
        env: dict[str, str | None],
        command=None,
        port: int = 0,
    ) -> None:
        self.name = name
        self.db = tmp / f"{name}.db"
        tower = command is TOWER
        full = dict(os.environ, PYTHONPATH=str(ROOT))
        for k, v in env.items():
            if v is None:
                full.pop(k, None)
            else:
                full[k] = v
        full["L2KIT_KEY"] = key
        self.log = open(tmp / f"{name}.log", "a")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [*TOWER, "--db", str(self.db), "--port", str(port)]
            if tower
            else [*NODE, "--db", str(self.db), "--port", str(port), "--api-port", "0"],
            cwd=ROOT,
            env=full,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(lines,), daemon=True).start()
        try:
            node_line = lines.get(timeout=60)
            api_line = "api -" if tower else lines.get(timeout=10)
        except queue.Empty:
            self.stop()
            raise AssertionError(f"{name} did not start: {self.stderr()}") from None
        assert node_line.startswith("watchtower " if tower else "node "), (node_line, self.stderr())
        assert api_line.startswith("api "), (api_line, self.stderr())
        _, self.address, _, _, where = node_line.split()
        self.port = int(where.rpartition(":")[2])
        self.api = api_line.split()[1]

    def _pump(self, lines: queue.Queue[str]) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            lines.put(line.strip())

    def stderr(self) -> str:
        self.log.flush()
        return (self.log.name and Path(self.log.name).read_text())[-2000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
