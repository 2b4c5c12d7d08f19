# SPDX-License-Identifier: GPL-3.0-or-later
"""Start zk sequencer services as forks of one process that loaded the proving key once.

Loading the development proving key of the test circuit takes ~12 s of CPU (much more on a loaded
machine), and the crash tests start a service 3 to 5 times per case. A *fork server* loads the
key once per test module and forks a child per start; the child then runs the real service entry
point (`offchain.sequencer.service.main`, with the test's command line and environment) in a
process of its own, which the test kills with SIGKILL exactly like a `python -m` one. The only
difference from a fresh interpreter is that the modules are already imported and
`dev_keys(rollup_spec(params))` returns the key loaded before the fork: key loading is not what
the crash tests test (every other service test and the e2e run load it the normal way).

Run as a program, this file is the fork server: it reads JSON commands, one per line, on stdin
and answers one JSON line each on stdout ({"op": "start"|"poll"|"wait", ...}). It stops (and
SIGKILLs the children it started that still run) when stdin closes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------- the test side


class ForkServer:
    """The fork-server process (one per test module); `start` returns a `ForkedService`."""

    def __init__(self, n_txs: int, n_deposits: int, depth: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, str(n_txs), str(n_deposits), str(depth)],
            cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._loaded = False

    def call(self, **command: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if not self._loaded:  # the first line says the key is loaded (or why not)
            self._answer()
            self._loaded = True
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        return self._answer()

    def _answer(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the fork server exited (status {self.proc.wait()})")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"fork server: {answer['error']}")
        return answer

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class ForkedService:
    """One service life: `url` once it printed READY; `alive`, `kill`, `stop`, `log` and
    `returncode` as tests/operator/service_proc.ServiceProcess offers them."""

    def __init__(
        self,
        server: ForkServer,
        args: list[str],
        env: dict[str, str],
        log_dir: Path,
        ready_timeout: float = 120,
    ) -> None:
        self._server = server
        log_dir.mkdir(parents=True, exist_ok=True)
        stamp = f"{time.monotonic_ns()}"
        self.stdout_path = log_dir / f"service-{stamp}.out"
        self.stderr_path = log_dir / f"service-{stamp}.err"
        for path in (self.stdout_path, self.stderr_path):
            path.touch()  # readable at once: the child opens (and truncates) them after the fork
        self.pid = int(
            server.call(
                op="start",
                args=args,
                env=env,
                stdout=str(self.stdout_path),
                stderr=str(self.stderr_path),
            )["pid"]
        )
        self.returncode: int | None = None
        self.url = self._wait_ready(ready_timeout)

    def _wait_ready(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.stdout_path.read_text().splitlines():
                if line.startswith("READY "):
                    return line.split()[1]
            if not self.alive():
                raise RuntimeError(
                    f"batcher exited early (status {self.returncode}):\n{self.log()}"
                )
            time.sleep(0.05)
        raise RuntimeError(f"batcher did not become ready in {timeout} s:\n{self.log()}")

    def alive(self) -> bool:
        if self.returncode is None:
            self.returncode = self._server.call(op="poll", pid=self.pid)["returncode"]
        return self.returncode is None

    def kill(self) -> None:
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        self._wait()

    def stop(self) -> None:
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.1)
        self.kill()

    def _wait(self) -> None:
        if self.returncode is None:
            self.returncode = self._server.call(op="wait", pid=self.pid)["returncode"]

    def log(self, tail: int = 4000) -> str:
        """The end of the service's stderr (its log), to say why it stopped."""
        text = self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""
        return text[-tail:]


# ------------------------------------------------------------------------ the fork server


def _status(raw: int) -> int:
    """waitpid status -> Popen-style returncode (negative: the signal that ended it)."""
    return -os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else os.WEXITSTATUS(raw)


def _child(command: dict[str, Any]) -> None:
    """In the forked child: become the service (never returns)."""
    rc = 1
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for fd, path in ((1, command["stdout"]), (2, command["stderr"])):
            out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(out, fd)
            os.close(out)
        os.environ.clear()
        os.environ.update(command["env"])
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        time.tzset()
        from offchain.sequencer import service

        rc = service.main(list(command["args"]))
    except SystemExit as exc:
        rc = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)


def _serve(n_txs: int, n_deposits: int, depth: int) -> None:
    import offchain.sequencer.service  # noqa: F401  (imported once, before any fork)
    import offchain.zk.sequencer_service as zk_service
    from offchain.zk.circuit import dev_keys, rollup_spec
    from offchain.zk.params import CircuitParams

    spec = rollup_spec(CircuitParams(n_txs, n_deposits, depth))
    try:
        keys = dev_keys(spec)
    except Exception as exc:
        print(json.dumps({"error": f"cannot load the keys of {spec.name}: {exc}"}), flush=True)
        return

    def preloaded(wanted: Any, *args: Any, **kwargs: Any) -> Any:
        return keys if wanted == spec else dev_keys(wanted, *args, **kwargs)

    zk_service.dev_keys = preloaded  # type: ignore[assignment]
    print(json.dumps({"loaded": spec.name}), flush=True)
    children: set[int] = set()
    for line in sys.stdin:
        command = json.loads(line)
        try:
            if command["op"] == "start":
                sys.stdout.flush()
                pid = os.fork()
                if pid == 0:
                    _child(command)
                children.add(pid)
                answer: dict[str, Any] = {"pid": pid}
            elif command["op"] in ("poll", "wait"):
                pid = int(command["pid"])
                if pid not in children:
                    raise ValueError(f"pid {pid} is not a child of this fork server")
                flags = os.WNOHANG if command["op"] == "poll" else 0
                done, raw = os.waitpid(pid, flags)
                answer = {"returncode": None if done == 0 else _status(raw)}
                if done:
                    children.discard(pid)
            else:
                raise ValueError(f"unknown command {command!r}")
        except Exception as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)
    for pid in children:  # only the services this server started and nobody stopped
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
