"""The NatSpec gate (tools/check_natspec.py) finds exactly the defects it is there for."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("check_natspec", ROOT / "tools" / "check_natspec.py")
assert _spec is not None and _spec.loader is not None
check_natspec = importlib.util.module_from_spec(_spec)
sys.modules["check_natspec"] = check_natspec
_spec.loader.exec_module(check_natspec)

GOOD = """
contract C {
    /// @notice Moves funds.
    /// @param amount Wei to move.
    /// @param to Destination.
    function move(uint256 amount, address payable to) external {}

    /// @inheritdoc I
    function inherited(uint256 x) external {}

    /// @notice Internal helpers need no parameter docs.
    function _helper(uint256 y) private {}

    /// @notice Unnamed parameters need none either.
    /// @param a The first.
    function f(uint256 a, bytes calldata) public view returns (uint256) {}
}
"""


def _what(source: str) -> list[str]:
    return [d.what for d in check_natspec.check_source(Path("X.sol"), source)]


def test_natspec_accepts_complete_docs():
    assert _what(GOOD) == []


def test_natspec_rejects_two_tags_on_one_line():
    src = """
    /// @param amount Wei to withdraw. @param to Destination.
    function withdrawBond(uint256 amount, address to) external {}
    """
    what = _what(src)
    assert "2 NatSpec tags on one line (one per line)" in what
    # solc reads one @param there: `to` is undocumented
    assert "withdrawBond: parameter `to` has no @param" in what


def test_natspec_rejects_missing_extra_and_duplicate_params():
    src = """
    /** @notice Multi-line block.
     *  @param a First.
     *  @param a Again.
     *  @param ghost Not a parameter.
     */
    constructor(uint256 a, uint256 b) {}
    """
    assert sorted(_what(src)) == sorted(
        [
            "constructor: parameter `a` documented twice",
            "constructor: parameter `b` has no @param",
            "constructor: @param `ghost` names no parameter",
        ]
    )


def test_natspec_multiline_signature_and_test_contracts():
    src = """
    /// @notice Posts.
    /// @param expectedPreRoot Root.
    function postBatch(
        bytes32 expectedPreRoot, // comment (with parens)
        bytes calldata data
    ) external returns (uint256 index) {}
    """
    assert _what(src) == ["postBatch: parameter `data` has no @param"]
    assert check_natspec.check_source(Path("contracts/test/T.sol"), src, params=False) == []


def test_natspec_repository_is_clean():
    defects = [
        str(d)
        for f in sorted((ROOT / "contracts").rglob("*.sol"))
        for d in check_natspec.check_source(f, f.read_text(), params="test" not in f.parts)
    ]
    assert defects == []
