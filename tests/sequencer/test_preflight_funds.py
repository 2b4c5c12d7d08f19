"""The proposer funds check prices gas as the L1 sender will (`max_fee_now`), not with a constant:
base fee * the policy's factor + the node's priority fee; a fee above the cap is one clear line."""

import pytest

from offchain.l1.sender import SendPolicy
from offchain.sequencer.preflight import PreflightError, check_funds

ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


class FakeEth:
    def __init__(self, base_fee, tip, balance):
        self.base_fee, self.max_priority_fee, self.balance = base_fee, tip, balance

    def get_block(self, which):
        assert which == "latest"
        return {"baseFeePerGas": self.base_fee}

    def get_balance(self, address):
        assert address == ADDRESS
        return self.balance


class FakeW3:
    def __init__(self, base_fee, tip, balance):
        self.eth = FakeEth(base_fee, tip, balance)


def test_the_gas_reserve_is_priced_at_the_senders_max_fee():
    base, tip, gas = 7_000_000_000, 3, 100_000
    need = 5 + gas * (base * 2 + tip)  # default policy: base fee factor 2, the node's tip
    check_funds(FakeW3(base, tip, need), ADDRESS, 5, reserve_gas=gas)  # exactly enough
    with pytest.raises(PreflightError, match=f"needs {need} wei \\(5 for the bond"):
        check_funds(FakeW3(base, tip, need - 1), ADDRESS, 5, reserve_gas=gas)
    # a policy with a higher factor and a fixed tip prices the reserve higher, as it will send
    policy = SendPolicy(base_fee_factor=3, priority_fee=10)
    with pytest.raises(PreflightError, match=f"{gas * (base * 3 + 10)} for gas"):
        check_funds(FakeW3(base, tip, need), ADDRESS, 5, reserve_gas=gas, policy=policy)


def test_fees_above_the_senders_cap_are_one_clear_line():
    policy = SendPolicy(max_fee_cap=10**9)
    with pytest.raises(PreflightError, match="above the sender's cap now; wait, or raise"):
        check_funds(FakeW3(10**9, 1, 10**30), ADDRESS, 0, policy=policy)
