"""Locating keys in TOML text for error messages."""

from __future__ import annotations

from resilience.scenario.toml_lines import locate_key

TEXT = """\
extends = "base.toml"
[scenario]
name = "x"

[nodes.tw_fab]
country = "TW"
inventory = { initial = 5, target_days = 3 }
inputs = [{ commodity = "gallium", per_unit = 0.1 }]

[nodes."quoted.id"]
kind = "source"
lanes.a.from = "tw_fab"
"""


def test_header_key_inline_and_dotted_keys() -> None:
    assert locate_key(TEXT, ("extends",)) == 1
    assert locate_key(TEXT, ("scenario", "name")) == 3
    assert locate_key(TEXT, ("nodes", "tw_fab")) == 5
    assert locate_key(TEXT, ("nodes", "tw_fab", "country")) == 6
    assert locate_key(TEXT, ("nodes", "tw_fab", "inventory", "target_days")) == 7
    assert locate_key(TEXT, ("nodes", "tw_fab", "inputs", 0, "per_unit")) == 8
    assert locate_key(TEXT, ("nodes", "quoted.id", "kind")) == 11
    assert locate_key(TEXT, ("nodes", "quoted.id", "lanes", "a", "from")) == 12


def test_missing_key_falls_back_to_its_table() -> None:
    assert locate_key(TEXT, ("nodes", "tw_fab", "capacity_per_day")) == 5
    assert locate_key(TEXT, ("lanes", "nope")) is None
