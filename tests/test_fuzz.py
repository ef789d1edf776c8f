"""Fuzz the scenario loader: whatever the file holds, only a `ResilienceError` may escape.

Random bytes, random text, mutations of a valid scenario, random TOML documents and two-file
``extends`` chains are written to a fresh directory and loaded. A valid load is fine too, and is
then compiled, as ``resilience validate`` does. Every run is derandomized so CI sees the same
examples; each explicit ``@example`` is an input that once escaped as another exception.
"""

from __future__ import annotations

import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from resilience.errors import ResilienceError
from resilience.network.compiler import compile_network
from resilience.scenario import schema
from resilience.scenario.loader import load_scenario

BASE = """\
[scenario]
name = "tiny"
horizon_days = 100
replications = 10

[commodities.lng]
unit = "kt"

[countries.QA]
name = "Qatar"

[countries.JP]
name = "Japan"

[chokepoints.hormuz]
name = "Strait of Hormuz"
detour_days = 10

[nodes.qa_lng]
country = "QA"
kind = "source"
commodity = "lng"
capacity_per_day = 200

[nodes.jp_gas]
country = "JP"
kind = "consumer"
commodity = "lng"
inventory = { initial_days = 12, target_days = 12 }
demand = { mean_per_day = 180, cv = 0.1 }

[lanes.qa_jp]
from = "qa_lng"
to = "jp_gas"
commodity = "lng"
lead_time_days = 18
chokepoints = ["hormuz"]

[disruptions.closure]
kind = "chokepoint"
target = "hormuz"
start = 10
duration = { dist = "lognormal", median = 20, sigma = 0.5 }
severity = 0.8
"""
BASE_LINES = BASE.splitlines()
BASE_DATA = tomllib.loads(BASE)

# Every key the schema knows (section names included), the ids BASE defines, and "extends".
SCHEMA_KEYS = sorted(
    {
        field.alias or name
        for model in vars(schema).values()
        if isinstance(model, type) and issubclass(model, BaseModel)
        for name, field in model.model_fields.items()
    }
)
IDS = ["lng", "QA", "JP", "hormuz", "qa_lng", "jp_gas", "qa_jp", "closure"]
KEYS = st.sampled_from([*SCHEMA_KEYS, *IDS, "extends"]) | st.text("ab_-", min_size=1, max_size=3)

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def load_quietly_or_fail_well(write: Callable[[Path], Path]) -> None:
    """Write the input into a fresh directory and load it: a `ResilienceError` or a valid load."""
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder))
        try:
            loaded = load_scenario(path)
            compile_network(loaded.scenario)
        except ResilienceError:
            pass


def write_bytes(content: bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / "scenario.toml"
        path.write_bytes(content)
        return path

    return write


def write_text(text: str) -> Callable[[Path], Path]:
    return write_bytes(text.encode("utf-8"))


# TOML values as source text: scalars of every type, including the awkward ones.
_TOML_INTEGERS = st.one_of(
    st.integers().map(str),
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["0x1F", "0o17", "0b101", "1_000", "-0", "+5"]),
    st.integers(1, 5000).map(lambda digits: "9" * digits),  # huge, beyond any machine integer
)
_TOML_FLOATS = st.one_of(
    st.floats().map(repr),  # repr spells nan, inf and -inf as TOML does
    st.sampled_from(["nan", "+nan", "-nan", "inf", "+inf", "-inf", "1e400", "-0.0", "5e-324"]),
)
_TOML_STRINGS = st.one_of(st.sampled_from(IDS), st.text(max_size=20)).map(
    lambda s: tomli_w.dumps({"v": s}).removeprefix("v = ").rstrip("\n")
)
_TOML_SCALARS = st.one_of(
    _TOML_INTEGERS, _TOML_FLOATS, _TOML_STRINGS, st.sampled_from(["true", "false"])
)
TOML_VALUES = st.recursive(
    _TOML_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.dictionaries(st.sampled_from(SCHEMA_KEYS), inner, max_size=3).map(
            lambda table: "{ " + ", ".join(f"{k} = {v}" for k, v in table.items()) + " }"
        ),
    ),
    max_leaves=8,
)


@st.composite
def mutated_base(draw: st.DrawFn) -> str:
    """BASE after one to four random edits of its lines."""
    lines = list(BASE_LINES)
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(["delete", "duplicate", "replace", "insert", "truncate"]))
        if edit == "delete":
            del lines[at]
        elif edit == "duplicate":
            lines.insert(at, lines[at])
        elif edit == "replace":
            assignments = [i for i, line in enumerate(lines) if " = " in line]
            if assignments:
                at = draw(st.sampled_from(assignments))
                key = lines[at].partition(" = ")[0]
                lines[at] = f"{key} = {draw(TOML_VALUES)}"
        elif edit == "insert":
            key = ".".join(draw(st.lists(KEYS, min_size=1, max_size=3)))
            lines.insert(at, f"{key} = {draw(TOML_VALUES)}")
        else:
            text = "\n".join(lines)
            return text[: draw(st.integers(0, len(text)))]
    return "\n".join(lines) + "\n"


# TOML documents as data: random nested tables, and BASE with random key paths set or removed.
_LEAVES = st.one_of(
    st.integers(),
    st.floats(),
    st.text(max_size=10),
    st.sampled_from(IDS),
    st.booleans(),
    st.dates(),
    st.datetimes(),
)
DATA_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)


def _key_paths(data: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            paths += _key_paths(value, (*prefix, key))
    return paths


BASE_PATHS = _key_paths(BASE_DATA)


@st.composite
def patched_base(draw: st.DrawFn) -> dict[str, Any]:
    """BASE's data with one to three key paths replaced, removed or given a new key."""
    data: dict[str, Any] = tomllib.loads(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(BASE_PATHS))
        table: Any = data
        for key in path[:-1]:
            table = table.get(key) if isinstance(table, dict) else None
        if not isinstance(table, dict):
            continue
        edit = draw(st.sampled_from(["set", "remove", "add"]))
        if edit == "set":
            table[path[-1]] = draw(DATA_VALUES)
        elif edit == "remove":
            table.pop(path[-1], None)
        else:
            table[draw(KEYS)] = draw(DATA_VALUES)
    return data


DOCUMENTS = st.one_of(st.dictionaries(KEYS, DATA_VALUES, max_size=6), patched_base())
EXTENDS = st.one_of(
    st.none(),
    st.sampled_from(["base.toml", "scenario.toml", "missing.toml", ".", "/", ""]),
    st.text("ab._", max_size=400),
)


@FUZZ
@given(st.binary(max_size=2000))
@example(b"")
@example(b"\xef\xbb\xbf[scenario]\n")
def test_random_bytes(content: bytes) -> None:
    load_quietly_or_fail_well(write_bytes(content))


@FUZZ
@given(st.text(max_size=500) | st.text(st.sampled_from('[]{}=".,#\n\t abx019-+_'), max_size=200))
# Regression: tomllib recurses once per nesting level, so deeply nested arrays or inline tables
# raise RecursionError out of load_scenario (at about 330 levels in a plain run; Hypothesis raises
# the recursion limit while it tests, hence 5000 here).
@example("x = " + "[" * 5000 + "]" * 5000 + "\n")
@example("x = " + "{a=" * 5000 + "1" + "}" * 5000 + "\n")
def test_random_text(text: str) -> None:
    load_quietly_or_fail_well(write_text(text))


@FUZZ
@given(mutated_base())
@example(BASE)
# Regression: an integer literal of more than 4300 digits makes tomllib raise ValueError (Python's
# int-from-string limit), which load_scenario does not turn into a ScenarioError.
@example(BASE.replace("capacity_per_day = 200", "capacity_per_day = " + "9" * 5000))
# Regression: a disruption target that is an array or table (not a string) raised
# "TypeError: unhashable type" in checks.check_scenario_references (fixed since).
@example(BASE.replace('target = "hormuz"', 'target = ["hormuz"]'))
@example(BASE.replace('target = "hormuz"', "target = { a = 1 }"))
def test_mutated_base_scenario(text: str) -> None:
    load_quietly_or_fail_well(write_text(text))


@FUZZ
@given(DOCUMENTS, EXTENDS)
# Regression: an extends value longer than the file system's name limit (255 bytes) makes
# Path.exists() in loader._resolve_target raise OSError (ENAMETOOLONG).
@example({}, "a" * 300)
def test_random_documents(document: dict[str, Any], extends: str | None) -> None:
    """tomli_w writes the document (so it is valid TOML), perhaps extending the valid BASE."""
    if extends is not None:
        document = {**document, "extends": extends}
    text = tomli_w.dumps(document)

    def write(folder: Path) -> Path:
        (folder / "base.toml").write_text(BASE, encoding="utf-8")
        path = folder / "scenario.toml"
        path.write_text(text, encoding="utf-8")
        return path

    load_quietly_or_fail_well(write)


@FUZZ
@given(mutated_base(), mutated_base())
# Regression: loader._merge recurses once per table level, so a parent and a child that both
# define a deep dotted key raise RecursionError (tomllib reads the key itself without recursing).
@example("[x]\n" + "a." * 5000 + "b = 1\n", "[x]\n" + "a." * 5000 + "b = 2\n")
def test_extends_chain(parent: str, child: str) -> None:
    """A mutated scenario extending another mutated scenario."""

    def write(folder: Path) -> Path:
        (folder / "parent.toml").write_text(parent, encoding="utf-8")
        path = folder / "child.toml"
        path.write_text('extends = "parent.toml"\n' + child, encoding="utf-8")
        return path

    load_quietly_or_fail_well(write)
