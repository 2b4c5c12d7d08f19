"""A throwaway Anvil process for tests that must not share the suite's node (scripts run as
processes, a different hardfork). Ape's own start waits a fixed 20 s for the RPC, which a
loaded 2-core CI machine has exceeded; this waits as long as `ready_within` says."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

from web3 import Web3


def free_port() -> int:
    """A TCP port free on 127.0.0.1 at the time of the call."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def anvil_process(hardfork: str = "osaka", ready_within: float = 120.0) -> Iterator[str]:
    """Start `anvil --hardfork <hardfork>` on a free port; yield its URL once it answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        ["anvil", "--hardfork", hardfork, "--port", str(port), "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 5}))
        deadline = time.monotonic() + ready_within
        while not w3.is_connected():
            if proc.poll() is not None:
                raise RuntimeError(f"anvil exited with code {proc.returncode} before answering")
            if time.monotonic() > deadline:
                raise TimeoutError(f"anvil did not answer on {url} within {ready_within:.0f} s")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
