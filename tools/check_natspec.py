"""NatSpec gate for the Solidity sources (run by `make lint`).

Rules, each one a defect the compiler does not report:
- one tag per line: solc reads `/// @param a A. @param b B.` as a single `@param a` whose text
  contains "@param b B." (so `b` is undocumented and `a`'s text is wrong);
- every external or public function and every constructor documents each named parameter with
  exactly one `@param` (or says `@inheritdoc`), and documents no parameter it does not have
  (test-only contracts under contracts/test/ are held to the first rule only).

Usage: python tools/check_natspec.py [paths...]   (default: contracts/)
Exit status 1 with one line per defect (file:line: what is wrong) when any is found.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

TAG = re.compile(r"@(param|return|notice|dev|inheritdoc|title|author|custom:[a-z-]+)\b")
DECL = re.compile(r"^\s*(function\s+\w+|constructor)\s*\(")
LOCATIONS = {"memory", "calldata", "storage", "payable"}


@dataclass(frozen=True)
class Defect:
    path: Path
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _doc_lines(lines: list[str], decl_index: int) -> list[tuple[int, str]]:
    """The NatSpec block right above line `decl_index` (1-based numbers, comment markers cut)."""
    out: list[tuple[int, str]] = []
    i = decl_index - 1
    while i >= 0:
        s = lines[i].strip()
        if s.startswith("///"):
            out.append((i + 1, s[3:]))
        elif s.endswith("*/") and "/**" not in s:
            # a /** ... */ block: walk up to its opening
            while i >= 0 and "/**" not in lines[i]:
                out.append((i + 1, lines[i].strip().lstrip("*").rstrip("/").rstrip("*")))
                i -= 1
            if i >= 0:
                out.append((i + 1, lines[i].strip().removeprefix("/**").rstrip("*/")))
        elif s.startswith("/**") and s.endswith("*/"):
            out.append((i + 1, s[3:-2]))
        else:
            break
        i -= 1
    out.reverse()
    return out


def _signature(lines: list[str], start: int) -> tuple[str, str]:
    """(parameter list text, rest of the header up to `{` or `;`) of the declaration at `start`."""
    text = ""
    for line in lines[start:]:
        text += " " + re.sub(r"//.*", "", line)
        if "{" in text or ";" in text:
            break
    open_at = text.index("(")
    depth = 0
    for j in range(open_at, len(text)):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            depth -= 1
            if depth == 0:
                return text[open_at + 1 : j], text[j + 1 :]
    raise ValueError("unbalanced parentheses")


def _param_names(params: str) -> list[str]:
    names = []
    depth = 0
    current = ""
    for ch in params + ",":
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            tokens = [t for t in current.split() if t not in LOCATIONS]
            if len(tokens) >= 2:
                names.append(tokens[-1])
            current = ""
        else:
            current += ch
    return names


def check_source(path: Path, source: str, *, params: bool = True) -> list[Defect]:
    """Defects of one source; `params=False` checks only the one-tag-per-line rule."""
    defects: list[Defect] = []
    lines = source.splitlines()
    for n, line in enumerate(lines, start=1):
        comment = line.strip()
        if comment.startswith(("///", "*", "/**")):
            tags = TAG.findall(comment)
            if len(tags) > 1:
                defects.append(
                    Defect(path, n, f"{len(tags)} NatSpec tags on one line (one per line)")
                )
    for i, line in enumerate(lines):
        m = DECL.match(line) if params else None
        if not m:
            continue
        param_text, rest = _signature(lines, i)
        is_ctor = m.group(1) == "constructor"
        visible = re.search(r"\b(external|public)\b", rest) is not None
        if not (is_ctor or visible):
            continue
        doc = _doc_lines(lines, i)
        text = " ".join(t for _, t in doc)
        if "@inheritdoc" in text:
            continue
        names = _param_names(param_text)
        # solc reads a tag only at the start of a line: a second one mid-line is text
        documented = [
            m2.group(1) for _, t in doc if (m2 := re.match(r"\s*@param\s+(\w+)", t)) is not None
        ]
        name = m.group(1).split()[-1]
        for p in names:
            count = documented.count(p)
            if count == 0:
                defects.append(Defect(path, i + 1, f"{name}: parameter `{p}` has no @param"))
            elif count > 1:
                defects.append(Defect(path, i + 1, f"{name}: parameter `{p}` documented twice"))
        for d in sorted(set(documented) - set(names)):
            defects.append(Defect(path, i + 1, f"{name}: @param `{d}` names no parameter"))
    return defects


def main(argv: list[str]) -> int:
    roots = [Path(a) for a in argv] or [Path("contracts")]
    files = sorted(f for r in roots for f in ([r] if r.is_file() else r.rglob("*.sol")))
    defects = [
        d for f in files for d in check_source(f, f.read_text(), params="test" not in f.parts)
    ]
    for d in defects:
        print(d)
    if defects:
        print(f"{len(defects)} NatSpec defect(s): one tag per line, one @param per parameter")
        return 1
    print(f"NatSpec: {len(files)} files checked, no defect")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
