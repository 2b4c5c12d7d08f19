"""At a terminal, a command that moves value asks first: "n" sends nothing, "y" sends. Run as a
process on a pseudo-terminal, as a user at a shell would see it."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time

import pytest
from conftest import ROOT, key_of


def run_on_tty(
    l2kit, args: list[str], key: str, answer: bytes, timeout: float = 60
) -> tuple[str, int]:
    env = dict(
        os.environ, PYTHONPATH=str(ROOT), L2KIT_KEY=key, L2KIT_DEPLOYMENTS=str(l2kit.deployments)
    )
    for name in ("L2KIT_RPC", "L2KIT_NETWORK", "L2KIT_BATCHER"):
        env.pop(name, None)
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "offchain.cli", *args],
        cwd=ROOT,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    seen, answered = b"", False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            if not answered and b"Send? [y/N]" in seen:
                os.write(master, answer + b"\n")
                answered = True
            if proc.poll() is not None and not ready:
                break
        assert answered, seen.decode(errors="replace")
        proc.wait(timeout=30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return seen.decode(errors="replace"), proc.returncode


@pytest.mark.parametrize("answer,sent", [(b"n", False), (b"y", True)])
def test_deposit_at_a_terminal_asks_before_sending(l2kit, w3, alice, answer, sent):
    before = w3.eth.get_transaction_count(alice.address)
    text, code = run_on_tty(l2kit, ["rollup", "deposit", "0.5"], key_of(alice), answer)
    assert "deposit 0.5 ETH for " + alice.address in text
    if sent:
        assert code == 0, text
        assert w3.eth.get_transaction_count(alice.address) == before + 1
    else:
        assert code == 1 and "l2kit: error: aborted: nothing was sent" in text, text
        assert w3.eth.get_transaction_count(alice.address) == before
