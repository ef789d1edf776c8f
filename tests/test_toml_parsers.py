"""The loader's two TOML parsers: rtoml reads scenario files fast, tomllib is the reference.

`resilience.scenario.loader._parse_toml` takes rtoml's tables when rtoml reads the text and
tomllib's otherwise. These tests check, against tomllib (the standard library's parser, which
we did not write), that the two give the same tables on every file we ship and on the TOML
forms scenario files use, and that what rtoml refuses is read, or refused, by tomllib as before.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pytest
import rtoml
import tomli_w

from resilience.errors import ScenarioError
from resilience.scenario.loader import _parse_toml, load_scenario
from resilience.scenario.synthetic import synthetic_scenario

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "scenarios").rglob("*.toml"))

FORMS = """\
# every form a scenario file may use
extends = ["a.toml", 'b.toml']
[scenario]
name = "forms"
description = \"\"\"multi-line
text with "quotes", tabs\\t and unicode: 台灣 ±1\"\"\"
literal = '''C:\\raw\\path'''
horizon_days = 1_825
rate = 6.02e23
small = -1.5e-7
third = 0.1
hex = 0xff
octal = 0o17
binary = 0b101
flags = [true, false]
when = 2026-03-02
stamp = 2026-03-02T07:32:00Z
local = 07:32:00

[nodes."quoted.id"]
inventory = { initial = 5, target_days = 3.5 }
inputs = [{ commodity = "gallium", per_unit = 0.1 }, { commodity = "neon", per_unit = 2 }]
lanes.a.from = "tw_fab"

[[overrides]]
key = "x"
[[overrides]]
key = "y"
"""


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_shipped_files_parse_to_the_same_tables(path: Path) -> None:
    text = path.read_text("utf-8")
    assert rtoml.loads(text) == tomllib.loads(text)


def test_every_form_parses_to_the_same_tables() -> None:
    """Strings (basic, literal, multi-line, escapes, unicode), integers in every base, floats
    (0.1 bit for bit), booleans, dates and times, inline tables, arrays of tables, dotted and
    quoted keys."""
    expected = tomllib.loads(FORMS)
    parsed = rtoml.loads(FORMS)
    assert parsed == expected
    assert parsed["scenario"]["third"].hex() == (0.1).hex()


def test_a_large_generated_file_parses_to_the_same_tables() -> None:
    """A 500-node, 2,000-lane generated scenario, written by tomli-w as the benchmarks do."""
    text = tomli_w.dumps(synthetic_scenario(500, 2000, seed=3, hazards=True))
    assert _parse_toml(text) == tomllib.loads(text)


def test_what_rtoml_refuses_tomllib_reads() -> None:
    """rtoml refuses a float that overflows float64, which TOML allows; the loader reads it as
    tomllib always did, as inf (the magnitude checks then refuse it with a message of their own).
    Integers beyond 64 bits both parsers read exactly."""
    with pytest.raises(ValueError, match="overflow"):
        rtoml.loads("x = 1e400")
    assert _parse_toml("x = 1e400")["x"] == math.inf
    big = "x = 99999999999999999999"
    assert _parse_toml(big) == tomllib.loads(big) == {"x": 99999999999999999999}


def test_malformed_toml_is_worded_by_tomllib(tmp_path: Path) -> None:
    """A duplicate key: the error is tomllib's, with its line, as before rtoml."""
    path = tmp_path / "dup.toml"
    path.write_text('[scenario]\nname = "a"\nname = "b"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(str(path))
    problem = caught.value.problems[0]
    assert problem.line == 3
    assert "malformed TOML: Cannot overwrite a value" in problem.message


def test_deep_nesting_is_refused_not_crashed(tmp_path: Path) -> None:
    """100,000 nested arrays: rtoml stops at its recursion limit, tomllib's RecursionError is
    caught, and the loader says so."""
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="nested too deeply"):
        load_scenario(str(path))
