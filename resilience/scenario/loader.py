"""Load a scenario: read TOML, follow ``extends``, apply ``--set`` overrides, validate, check.

The loader is the only place that reads scenario files. Every failure becomes a `Problem` that
names the file, the line where one is known, the key path and what was expected; all problems
found are raised together in one `ScenarioError`.

Composition rules (docs/scenario-format.md, "Composition"):
- ``extends = "other.toml"`` (a path relative to the file, or a shipped scenario's name) loads the
  other file first; this file's tables are merged over it key by key (tables merge, any other
  value replaces). ``extends`` may also list several files, merged in order. Chains are allowed,
  a file shared by several parents is merged once, cycles are an error.
- Overlay files (``--overlay``) are merged over the scenario in the order given.
- ``--set a.b.c=VALUE`` overrides are applied last; VALUE is read as a TOML value (``30``,
  ``0.5``, ``"text"``, ``[1, 2]``, ``true``), and anything that is not valid TOML is taken as a
  string.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import rtoml

from resilience.errors import Problem, ScenarioError, show_value
from resilience.scenario.catalog import find_scenario
from resilience.scenario.checks import check_scenario, check_scenario_references
from resilience.scenario.schema import Scenario
from resilience.scenario.toml_lines import locate_key

__all__ = ["LoadedScenario", "load_scenario", "parse_override", "scenario_digest"]

_MAX_FILE_BYTES = 16 * 1024 * 1024
_MAX_DEPTH = 32
"""Deepest nesting of tables and arrays a scenario may have (real ones use about 5); bounding it
keeps every recursive step after parsing (merging, validation) far from Python's recursion limit."""


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and where it came from.

    Attributes:
        scenario: the resolved, validated scenario (defaults filled).
        files: the files read: the requested file first, then overlays and what the files
            extend, the most derived first.
        overrides: the ``--set`` overrides applied, as given.
        overlays: the ``--overlay`` files merged over the requested one, as given.
    """

    scenario: Scenario
    files: tuple[Path, ...]
    overrides: tuple[str, ...]
    overlays: tuple[str, ...] = ()

    @property
    def digest(self) -> str:
        """SHA-256 of the resolved scenario's canonical JSON: equal scenarios, equal digests."""
        return scenario_digest(self.scenario)


def scenario_digest(scenario: Scenario) -> str:
    """SHA-256 (hex) of the canonical JSON form of a resolved scenario."""
    canonical = json.dumps(scenario.model_dump(mode="json", by_alias=True), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class _Layer:
    path: Path
    text: str
    data: dict[str, Any]


def load_scenario(
    target: str | Path, overrides: Sequence[str] = (), overlays: Sequence[str | Path] = ()
) -> LoadedScenario:
    """Load, compose, validate and check a scenario file (a path or a shipped scenario's name).

    Args:
        target: the scenario file, or the name of a shipped scenario.
        overrides: ``KEY.PATH=VALUE`` settings applied last.
        overlays: more files (paths or shipped names) merged over the target in order, e.g. a
            policy variant over a disruption scenario; files already merged are not repeated.

    Raises:
        ScenarioError: with every problem found.
    """
    paths = [
        _resolve_target(str(item), base=None, source=str(item), line=None)
        for item in (target, *overlays)
    ]
    merge_order = _read_chain(paths)
    merged: dict[str, Any] = {}
    for layer in merge_order:
        merged = _merge(merged, layer.data)
    # Most derived first: problems are placed in the file that wrote the key last.
    layers = list(reversed(merge_order))
    merged.pop("extends", None)
    override_problems = _apply_overrides(merged, overrides)
    if override_problems:
        raise ScenarioError(override_problems)

    problems: list[Problem] = []
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(merged)
    except pydantic.ValidationError as error:
        problems.extend(_schema_problems(error, layers, overrides))
    if scenario is not None:
        problems.extend(_place(check_scenario(scenario, raw=merged), layers, overrides))
    else:
        # Cross-references can still be checked on the raw tables, so that one pass reports a
        # dangling reference alongside a type error elsewhere.
        problems.extend(_place(check_scenario_references(merged), layers, overrides))
    if problems:
        raise ScenarioError(_unique(problems))
    assert scenario is not None
    # The requested file first, then the others, most derived first.
    files = [
        paths[0],
        *(layer.path for layer in layers if layer.path.resolve() != paths[0].resolve()),
    ]
    return LoadedScenario(
        scenario, tuple(files), tuple(overrides), tuple(str(item) for item in overlays)
    )


def _resolve_target(target: str, base: Path | None, source: str, line: int | None) -> Path:
    """A path as given (relative to ``base``), or else a shipped scenario of that name."""
    candidate = Path(target)
    if base is not None and not candidate.is_absolute():
        candidate = base / candidate
    try:
        if candidate.exists():
            return candidate
    except OSError:  # a name too long for the file system, say: no such file
        pass
    shipped = find_scenario(target)
    if shipped is not None:
        return shipped
    raise ScenarioError(
        [
            Problem(
                source,
                ("extends",) if base is not None else (),
                f"no such file {str(candidate)!r} and no shipped scenario named {target!r} "
                "(see `resilience list`)",
                line,
            )
        ]
    )


def _read_chain(paths: Sequence[Path]) -> list[_Layer]:
    """Read files and everything they extend, in merge order (bases first).

    ``extends`` names one file or a list of files. Each file is merged once, at its first place
    in a depth-first walk (parents before children, in the order listed), so a baseline that two
    parents share is not merged twice over their changes. A file that extends itself, directly
    or through others, is an error.
    """
    order: list[_Layer] = []
    done: set[Path] = set()

    def visit(path: Path, trail: list[tuple[Path, _Layer]]) -> None:
        resolved = path.resolve()
        if resolved in done:
            return
        if any(resolved == seen for seen, _ in trail):
            chain = " -> ".join(str(seen) for seen, _ in trail) + f" -> {resolved}"
            child = trail[-1][1]
            raise ScenarioError(
                [Problem(str(child.path), ("extends",), f"extends cycle: {chain}",
                         locate_key(child.text, ("extends",)))]
            )  # fmt: skip
        layer = _read_file(path)
        for parent in _parents(layer):
            visit(parent, [*trail, (resolved, layer)])
        done.add(resolved)
        order.append(layer)

    for path in paths:
        visit(path, [])
    return order


def _parents(layer: _Layer) -> list[Path]:
    """The files a layer's ``extends`` names (a string or a list of strings)."""
    value = layer.data.get("extends")
    if value is None:
        return []
    names = value if isinstance(value, list) else [value]
    line = locate_key(layer.text, ("extends",))
    if not names or not all(isinstance(name, str) and name for name in names):
        raise ScenarioError(
            [Problem(str(layer.path), ("extends",),
                     f"expected a file name or a list of file names, found {show_value(value)}",
                     line)]
        )  # fmt: skip
    return [
        _resolve_target(name, base=layer.path.parent, source=str(layer.path), line=line)
        for name in names
    ]


def _read_file(path: Path) -> _Layer:
    source = str(path)

    def fail(message: str, line: int | None = None) -> ScenarioError:
        return ScenarioError([Problem(source, (), message, line)])

    if path.is_dir():
        raise fail("is a directory, expected a scenario file (.toml)")
    if not path.is_file():
        # A device or a pipe (/dev/zero, a FIFO) could be read forever.
        raise fail("is not a regular file, expected a scenario file (.toml)")
    try:
        with path.open("rb") as handle:
            raw = handle.read(_MAX_FILE_BYTES + 1)
    except OSError as error:
        raise fail(f"cannot be read: {error.strerror or error}") from None
    if len(raw) > _MAX_FILE_BYTES:
        raise fail(f"is larger than {_MAX_FILE_BYTES} bytes, the most a scenario file may be")
    if not raw.strip():
        raise fail("is empty; expected a TOML scenario with at least a [scenario] table")
    if b"\x00" in raw:
        raise fail("is a binary file (it contains NUL bytes); expected TOML text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise fail(
            f"is not UTF-8 text (byte {error.start}); expected a TOML scenario file"
        ) from None
    try:
        data = _parse_toml(text)
    except tomllib.TOMLDecodeError as error:
        message, line = _split_toml_error(str(error))
        raise fail(f"malformed TOML: {message}", line) from None
    except ValueError as error:  # tomllib refuses integers of more than 4,300 digits
        raise fail(f"malformed TOML: {error}") from None
    except RecursionError:
        raise fail("malformed TOML: tables or arrays nested too deeply") from None
    if _depth(data) > _MAX_DEPTH:
        raise fail(f"tables or arrays nested more than {_MAX_DEPTH} levels deep")
    return _Layer(path, text, data)


def _parse_toml(text: str) -> dict[str, Any]:
    """The tables of a TOML document: rtoml's when it reads the text, else the standard tomllib's.

    rtoml (Rust) reads a 20,000-lane file in 0.17 s where tomllib takes 1.3 s, which is what
    `show` on large networks spends most of its time on (docs/decisions.md). tomllib stays the
    reference: whatever rtoml refuses (malformed TOML, but also valid values it does not hold,
    such as a float that overflows to inf) is read by tomllib, which either accepts it as it
    always did or raises the error, with line and column, that the loader reports.
    tests/test_toml_parsers.py checks that both give the same tables.
    """
    try:
        parsed: dict[str, Any] = rtoml.loads(text)
    except ValueError:  # rtoml.TomlParsingError: tomllib decides, and words any error
        return tomllib.loads(text)
    return parsed


def _depth(data: Any) -> int:
    """Nesting depth of tables and arrays (iterative, so it cannot itself recurse too deep).

    Walks one level at a time, keeping only the tables and arrays of the next level, and stops
    as soon as it passes `_MAX_DEPTH`: a 20,000-lane file is walked in about 0.05 s.
    """
    level = [data]
    depth = 0
    while level and depth <= _MAX_DEPTH:
        depth += 1
        children: list[Any] = []
        for value in level:
            items = value.values() if isinstance(value, dict) else value
            children += [item for item in items if isinstance(item, dict | list)]
        level = children
    return depth


def _split_toml_error(message: str) -> tuple[str, int | None]:
    """``'Expected ... (at line 3, column 5)'`` -> (``'Expected ... at column 5'``, 3)."""
    marker = "(at line "
    if marker in message:
        head, _, tail = message.rpartition(marker)
        number, _, column = tail.rstrip(")").partition(", ")
        if number.isdigit():
            return f"{head.strip()} ({column})" if column else head.strip(), int(number)
    return message, None


def _merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value in ``overlay`` replaces the one in ``base``."""
    result = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = _merge(result[key], value)
        else:
            result[key] = value
    return result


_COLLECTIONS = (
    "commodities",
    "countries",
    "chokepoints",
    "nodes",
    "lanes",
    "disruptions",
    "hazards",
)


def parse_override(text: str) -> tuple[tuple[str, ...], Any]:
    """Split ``'a.b.c=VALUE'`` into its key path and its value (read as TOML where possible)."""
    key, sep, value_text = text.partition("=")
    path = tuple(part.strip() for part in key.strip().split("."))
    if not sep or not all(path):
        raise ValueError("expected KEY.PATH=VALUE, e.g. scenario.replications=500")
    try:
        value = tomllib.loads(f"value = {value_text.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        value = value_text.strip()
    return path, value


def _apply_overrides(data: dict[str, Any], overrides: Iterable[str]) -> list[Problem]:
    problems: list[Problem] = []
    for text in overrides:
        source = f"--set {text}"
        try:
            path, value = parse_override(text)
        except ValueError as error:
            problems.append(Problem(source, (), str(error)))
            continue
        table = data
        for depth, part in enumerate(path[:-1]):
            child = table.get(part)
            if child is None:
                if depth == 1 and path[0] in _COLLECTIONS:
                    known = sorted(table)
                    hint = _did_you_mean(part, known)
                    problems.append(
                        Problem(source, path[: depth + 1], f"no entry {part!r} in {path[0]}{hint}")
                    )
                    break
                child = table[part] = {}
            if not isinstance(child, dict):
                problems.append(
                    Problem(
                        source,
                        path[: depth + 1],
                        f"is a value, not a table: found {show_value(child)}",
                    )
                )
                break
            table = child
        else:
            table[path[-1]] = value
    return problems


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _schema_problems(
    error: pydantic.ValidationError, layers: list[_Layer], overrides: Sequence[str]
) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        path = tuple(part for part in item["loc"] if isinstance(part, str | int))
        problems.append(Problem("", path, _describe(item, path)))
    return _place(problems, layers, overrides)


def _describe(item: Mapping[str, Any], path: tuple[str | int, ...]) -> str:
    """A pydantic error as 'what was expected; found what'."""
    kind = item["type"]
    found = item.get("input")
    if kind == "extra_forbidden":
        key = str(path[-1])
        return f"unknown key {key!r}{_did_you_mean(key, _known_keys(path[:-1]))}"
    if kind == "missing":
        return "missing required key"
    message = str(item["msg"])
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
        return message
    bounds = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=",
              "less_than": "<"}  # fmt: skip
    context = item.get("ctx") or {}
    if kind in bounds and context:
        limit = next(iter(context.values()))
        # `:g` keeps 0 and 100000 as written and shows 1e15 as 1e+15, not sixteen digits.
        shown = f"{limit:g}" if isinstance(limit, int | float) else limit
        return f"expected a number {bounds[kind]} {shown}; found {show_value(found)}"
    message = message.replace("Input should be", "expected")
    if isinstance(found, dict | list):
        return message
    return f"{message}; found {show_value(found)}"


def _known_keys(path: tuple[str | int, ...]) -> list[str]:
    """The keys the schema allows at ``path`` (for "did you mean")."""
    model: Any = Scenario
    for part in path:
        if isinstance(part, int):
            continue
        fields = getattr(model, "model_fields", None)
        if fields is None:
            return []
        field = next(
            (f for name, f in fields.items() if part in (name, f.alias)),
            None,
        )
        if field is None:
            # A collection entry id (nodes.<id>): step into the dict's value type.
            continue
        model = _model_of(field.annotation)
    fields = getattr(model, "model_fields", {})
    return [field.alias or name for name, field in fields.items()]


def _model_of(annotation: Any) -> Any:
    """The pydantic model inside ``X | None``, ``list[X]`` or ``dict[str, X]``, else None."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found is not None:
            return found
    metadata = getattr(annotation, "__origin__", None)
    return _model_of(metadata) if metadata is not None and metadata is not annotation else None


def _place(
    problems: Iterable[Problem], layers: list[_Layer], overrides: Sequence[str]
) -> list[Problem]:
    """Attribute each problem to the override or the file (and line) that wrote its key."""
    placed = []
    for problem in problems:
        override = _override_for(problem.key_path, overrides)
        if override is not None:
            placed.append(Problem(f"--set {override}", problem.key_path, problem.message))
            continue
        best: tuple[int, _Layer, int | None] | None = None
        for layer in layers:
            line = locate_key(layer.text, problem.key_path)
            depth = _written_depth(layer.data, problem.key_path)
            if best is None or depth > best[0]:
                best = (depth, layer, line)
        assert best is not None
        _, layer, line = best
        placed.append(Problem(str(layer.path), problem.key_path, problem.message, line))
    return placed


def _override_for(path: tuple[str | int, ...], overrides: Sequence[str]) -> str | None:
    names = tuple(str(part) for part in path)
    for text in reversed(overrides):
        try:
            key, _ = parse_override(text)
        except ValueError:
            continue
        # The override wrote this key, or created the table the problem is about.
        if names[: len(key)] == key or (names and key[: len(names)] == names):
            return text
    return None


def _written_depth(data: Any, path: tuple[str | int, ...]) -> int:
    """How many leading keys of ``path`` this file's data actually contains."""
    depth = 0
    for part in path:
        in_table = isinstance(data, dict) and isinstance(part, str) and part in data
        in_array = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if in_table or in_array:
            data = data[part]
        else:
            break
        depth += 1
    return depth


def _unique(problems: list[Problem]) -> list[Problem]:
    seen = set()
    unique = []
    for problem in problems:
        key = (problem.source, problem.key_path, problem.message)
        if key not in seen:
            seen.add(key)
            unique.append(problem)
    return unique
