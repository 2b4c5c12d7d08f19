"""Governance off-chain side: encode/decode timelock calls, watch scheduled changes (pure), and
the thin chain access `scripts/governance.py` and the watcher use. Spec: docs/governance.md."""
