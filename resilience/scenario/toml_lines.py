"""Find the line of a key path in TOML text, so that errors can point at it.

`tomllib` reports lines only for syntax errors; for a validation error we know the key path
(``nodes.tw_fab.capacity_per_day``) and look for where the text defines it. The scan understands
table headers (``[a.b]``, ``[[a]]``), dotted and quoted keys and inline tables on one line, which
covers every way the scenario format is written. When the full path is not written out (a key
that is missing, say), the line of its longest written prefix is returned.
"""

from __future__ import annotations

import re

__all__ = ["locate_key"]

# No nested quantifiers over the same characters: every pattern here runs in linear time on any
# line (a long run of spaces must not make the scan backtrack).
_HEADER = re.compile(r"^\s*\[\[?(?P<path>[^\]]*)\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r"^\s*(?P<key>(?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*'))*)\s*="
)
_INLINE_KEY = re.compile(r"(?:^|[{,])\s*(?P<key>[A-Za-z0-9_\-]+|\"[^\"]*\")\s*=")


def _split_dotted(text: str) -> tuple[str, ...]:
    parts = re.findall(r"\"[^\"]*\"|'[^']*'|[^.\s]+", text)
    return tuple(part.strip("\"'") for part in parts)


def locate_key(text: str, key_path: tuple[str | int, ...]) -> int | None:
    """Return the 1-based line that defines ``key_path`` (or its longest defined prefix).

    Array indices in the path (``inputs[0]``) are skipped when matching, since a line names the
    array, not the element. Returns None when not even the first key is written in the text.
    """
    wanted = tuple(part for part in key_path if isinstance(part, str))
    if not wanted:
        return None
    best_line: int | None = None
    best_depth = 0
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        candidates: list[tuple[str, ...]] = []
        if header:
            table = _split_dotted(header.group("path").strip())
            candidates.append(table)
        else:
            key = _KEY.match(line)
            if not key:
                continue
            full = table + _split_dotted(key.group("key"))
            candidates.append(full)
            rest = line[key.end() :]
            if "{" in rest:
                candidates.extend(
                    (*full, m.group("key").strip('"')) for m in _INLINE_KEY.finditer(rest)
                )
        for path in candidates:
            depth = _common_prefix(path, wanted)
            if depth == len(path) and depth > best_depth:
                best_line, best_depth = number, depth
    return best_line


def _common_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    depth = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        depth += 1
    return depth
