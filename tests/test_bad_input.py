"""Bad scenario input through the CLI: one clear message, exit code 2, never a traceback.

Every test writes a small valid scenario (`BASE`) with one change into ``tmp_path``, runs
``resilience validate`` on it and checks that stderr starts with ``error:``, names the file (and
the line, where the TOML gives one), the key path and the specific complaint.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from resilience.cli.main import main

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

SECOND_SOURCE = """
[nodes.qa_lng2]
country = "QA"
kind = "source"
commodity = "lng"
capacity_per_day = 100

[lanes.qa_jp2]
from = "qa_lng2"
to = "jp_gas"
commodity = "lng"
lead_time_days = 18
share = 0.5
"""

# Processors making a from b and b from a, with lanes both ways: every lane end is valid, only
# the bill of materials is circular.
BOM_CYCLE = """
[commodities.a]
unit = "t"

[commodities.b]
unit = "t"

[nodes.make_a]
country = "JP"
kind = "processor"
commodity = "a"
capacity_per_day = 10
inputs = [{ commodity = "b", per_unit = 1 }]

[nodes.make_b]
country = "JP"
kind = "processor"
commodity = "b"
capacity_per_day = 10
inputs = [{ commodity = "a", per_unit = 1 }]

[lanes.a_to_b]
from = "make_a"
to = "make_b"
commodity = "a"
lead_time_days = 1

[lanes.b_to_a]
from = "make_b"
to = "make_a"
commodity = "b"
lead_time_days = 1
"""

STRANDED_CONSUMER = """
[nodes.jp_power]
country = "JP"
kind = "consumer"
commodity = "lng"
demand = { mean_per_day = 5 }
"""

# A hazard called `demand` on consumer jp_gas would draw from the stream "demand:jp_gas", the
# consumer's demand stream (docs/model.md 4.1), so its outages would move with demand.
DEMAND_HAZARD = """
[hazards.demand]
kinds = ["consumer"]
annual_rate = 1.0
duration = 5
"""


def write_scenario(
    directory: Path,
    changes: Sequence[tuple[str, str]] = (),
    extra: str = "",
    name: str = "scenario.toml",
) -> Path:
    """Write BASE with each ``(old, new)`` replaced (old must occur once) and ``extra`` appended."""
    text = BASE
    for old, new in changes:
        assert text.count(old) == 1, f"{old!r} is not unique in BASE"
        text = text.replace(old, new)
    path = directory / name
    path.write_text(text + extra, encoding="utf-8")
    return path


def line_of(path: Path, fragment: str) -> int:
    """The 1-based number of the one line of ``path`` that contains ``fragment``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    numbers = [number for number, line in enumerate(lines, start=1) if fragment in line]
    assert len(numbers) == 1, f"{fragment!r} is on lines {numbers}"
    return numbers[0]


def validate(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run ``resilience validate ARGS``; check exit code 2, no traceback; return stderr."""
    code = main(["validate", *args])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.startswith("error:"), err
    assert "Traceback" not in out + err
    return err


def test_base_scenario_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The base is valid, so each test below fails for its own change only."""
    path = write_scenario(tmp_path)
    assert main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"ok {path}")
    assert err == ""


@pytest.mark.parametrize(
    ("changes", "extra", "line_fragment", "key_path", "messages"),
    [
        pytest.param(
            [("horizon_days = 100", "horizon_days = = 100")], "",
            "horizon_days = = 100", None, ["malformed TOML"],
            id="malformed-toml-value",
        ),
        pytest.param(
            [], '\n[nodes.qa_lng]  # again\nname = "again"\n',
            "[nodes.qa_lng]  # again", None, ["malformed TOML", "twice"],
            id="malformed-toml-duplicate-table",
        ),
        pytest.param(
            [("horizon_days = 100", "horizon_dayz = 100")], "",
            "horizon_dayz", "scenario.horizon_dayz",
            ["unknown key 'horizon_dayz'", "did you mean 'horizon_days'?"],
            id="unknown-key",
        ),
        pytest.param(
            [("cv = 0.1", "cvv = 0.1")], "",
            "cvv = 0.1", "nodes.jp_gas.demand.cvv",
            ["unknown key 'cvv'", "did you mean 'cv'?"],
            id="unknown-key-in-inline-table",
        ),
        pytest.param(
            [("capacity_per_day = 200", 'capacity_per_day = "5"')], "",
            'capacity_per_day = "5"', "nodes.qa_lng.capacity_per_day",
            ["expected a valid number", "found '5'"],
            id="string-for-number",
        ),
        pytest.param(
            [("lead_time_days = 18", "lead_time_days = -3")], "",
            "lead_time_days = -3", "lanes.qa_jp.lead_time_days",
            ["expected a number >= 1", "found -3"],
            id="negative-lead-time",
        ),
        pytest.param(
            [("severity = 0.8", "severity = 1.5")], "",
            "severity = 1.5", "disruptions.closure.severity",
            ["expected a number <= 1", "found 1.5"],
            id="severity-above-1",
        ),
        pytest.param(
            [("capacity_per_day = 200", "capacity_per_day = nan")], "",
            "capacity_per_day = nan", "nodes.qa_lng.capacity_per_day",
            ["expected a finite number", "found nan"],
            id="nan",
        ),
        pytest.param(
            [("capacity_per_day = 200", "capacity_per_day = inf")], "",
            "capacity_per_day = inf", "nodes.qa_lng.capacity_per_day",
            ["expected a finite number", "found inf"],
            id="inf",
        ),
        pytest.param(
            [("severity = 0.8", "severity = -inf")], "",
            "severity = -inf", "disruptions.closure.severity",
            ["expected a finite number", "found -inf"],
            id="minus-inf-fraction",
        ),
        pytest.param(
            [("mean_per_day = 180", "mean_per_day = inf")], "",
            "mean_per_day = inf", "nodes.jp_gas.demand.mean_per_day",
            ["expected a finite number", "found inf"],
            id="inf-in-inline-table",
        ),
        pytest.param(
            [('chokepoints = ["hormuz"]', 'chokepoints = ["hormuz"]\nshare = 0.3')], SECOND_SOURCE,
            "share = 0.3", "lanes.qa_jp.share",
            ["shares of the lanes into 'jp_gas' for 'lng' add up to 0.8, expected 1",
             "qa_jp=0.3", "qa_jp2=0.5"],
            id="shares-not-summing-to-1",
        ),
        pytest.param(
            [('to = "jp_gas"', 'to = "jp_gsa"')], "",
            'to = "jp_gsa"', "lanes.qa_jp.to",
            ["unknown node 'jp_gsa'", "did you mean 'jp_gas'?"],
            id="lane-to-missing-node",
        ),
        pytest.param(
            [('target = "hormuz"', 'target = "malacca"')], "",
            'target = "malacca"', "disruptions.closure.target",
            ["unknown chokepoint 'malacca'"],
            id="disruption-on-unknown-chokepoint",
        ),
        pytest.param(
            [('chokepoints = ["hormuz"]', 'chokepoints = ["hormuz", "suez"]')], "",
            "chokepoints = [", "lanes.qa_jp.chokepoints[1]",
            ["unknown chokepoint 'suez'"],
            id="lane-through-unknown-chokepoint",
        ),
        pytest.param(
            [], BOM_CYCLE,
            'inputs = [{ commodity = "b"', "nodes.make_a.inputs",
            ["bill-of-materials cycle: a -> b -> a", "through nodes make_a, make_b"],
            id="bill-of-materials-cycle",
        ),
        pytest.param(
            [], STRANDED_CONSUMER,
            "[nodes.jp_power]", "nodes.jp_power",
            ["no source can reach consumer 'jp_power'"],
            id="unreachable-consumer",
        ),
        pytest.param(
            [(", sigma = 0.5", "")], "",
            "duration = ", "disruptions.closure.duration",
            ["lognormal distribution missing 'sigma'", "expects median, sigma"],
            id="lognormal-without-sigma",
        ),
        pytest.param(
            [('duration = { dist = "lognormal", median = 20, sigma = 0.5 }', "duration = 1e19")],
            "",
            "duration = 1e19", "disruptions.closure.duration.value",
            ["expected a number <= 100000; found 1e+19"],
            id="duration-past-int64",
        ),
        pytest.param(
            [("mean_per_day = 180", "mean_per_day = 1e308")], "",
            "mean_per_day = 1e308", "nodes.jp_gas.demand.mean_per_day",
            ["expected a number <= 1e+15; found 1e+308"],
            id="demand-that-overflows-sums",
        ),
        pytest.param(
            [("sigma = 0.5", "sigma = 40")], "",
            "sigma = 40", "disruptions.closure.duration.sigma",
            ["expected a number <= 10; found 40"],
            id="lognormal-sigma-whose-draws-overflow",
        ),
        pytest.param(
            [], DEMAND_HAZARD,
            "[hazards.demand]", "hazards.demand",
            ["'demand' is reserved", "'demand:<consumer id>'"],
            id="hazard-named-like-the-demand-streams",
        ),
    ],
)  # fmt: skip
def test_one_problem_is_reported_with_file_line_key_and_message(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    changes: list[tuple[str, str]],
    extra: str,
    line_fragment: str,
    key_path: str | None,
    messages: list[str],
) -> None:
    path = write_scenario(tmp_path, changes, extra)
    err = validate(capsys, str(path))
    where = f"{path}:{line_of(path, line_fragment)}: "
    assert err.startswith(f"error: {where}"), err
    if key_path is not None:
        assert f"{where}{key_path}: " in err
    for message in messages:
        assert message in err
    assert err.rstrip().endswith("\n1 problem found"), err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"", "is empty", id="empty"),
        pytest.param(b"  \n\n\t\n", "is empty", id="blank"),
        pytest.param(b'[scenario]\x00name = "x"\n', "is a binary file (it contains NUL bytes)",
                     id="binary"),
        pytest.param(b'[scenario]\nname = "caf\xe9"\n', "is not UTF-8 text (byte 22)",
                     id="not-utf8"),
    ],
)  # fmt: skip
def test_unreadable_file_is_named_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    path = tmp_path / "scenario.toml"
    path.write_bytes(content)
    err = validate(capsys, str(path))
    assert err.startswith(f"error: {path}: {message}"), err
    assert "1 problem found" in err


def test_extends_cycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = write_scenario(
        tmp_path, [("[scenario]", 'extends = "b.toml"\n[scenario]')], name="a.toml"
    )
    second = tmp_path / "b.toml"
    second.write_text('extends = "a.toml"\n', encoding="utf-8")
    err = validate(capsys, str(first))
    assert err.startswith(f"error: {second}:1: extends: extends cycle: "), err
    assert f"{first} -> {second} -> {first}" in err


def test_extends_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_scenario(tmp_path, [("[scenario]", 'extends = "missing.toml"\n[scenario]')])
    err = validate(capsys, str(path))
    assert err.startswith(f"error: {path}:1: extends: no such file "), err
    assert repr(str(tmp_path / "missing.toml")) in err
    assert "no shipped scenario named 'missing.toml'" in err


@pytest.mark.parametrize(
    ("override", "key_path", "message"),
    [
        ("nodes.nope.capacity_per_day=5", "nodes.nope", "no entry 'nope' in nodes"),
        ("nodes.qa_lgn.capacity_per_day=5", "nodes.qa_lgn",
         "no entry 'qa_lgn' in nodes (did you mean 'qa_lng'?)"),
    ],
)  # fmt: skip
def test_override_into_missing_node(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    override: str,
    key_path: str,
    message: str,
) -> None:
    path = write_scenario(tmp_path)
    err = validate(capsys, str(path), "--set", override)
    assert err.startswith(f"error: --set {override}: {key_path}: {message}"), err


def test_all_problems_in_one_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown key, a negative lead time and a dangling reference, all in one run."""
    path = write_scenario(
        tmp_path,
        [
            ("horizon_days = 100", "horizon_dayz = 100"),
            ("lead_time_days = 18", "lead_time_days = -3"),
            ('target = "hormuz"', 'target = "malacca"'),
        ],
    )
    err = validate(capsys, str(path))
    expected = [
        f"{path}:{line_of(path, 'horizon_dayz')}: scenario.horizon_dayz: "
        "unknown key 'horizon_dayz'",
        f"{path}:{line_of(path, 'lead_time_days')}: lanes.qa_jp.lead_time_days: "
        "expected a number >= 1; found -3",
        f"{path}:{line_of(path, 'malacca')}: disruptions.closure.target: "
        "unknown chokepoint 'malacca'",
    ]
    for problem in expected:
        assert problem in err
    assert err.rstrip().endswith("\n3 problems found"), err


def _console_script() -> list[str]:
    script = Path(sysconfig.get_path("scripts")) / "resilience"
    if not script.exists():
        pytest.skip(f"the console script is not installed at {script}")
    return [str(script)]


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(lambda: [sys.executable, "-m", "resilience"], id="python-m"),
        pytest.param(_console_script, id="console-script"),
    ],
)
def test_command_line_subprocess(tmp_path: Path, command: Callable[[], list[str]]) -> None:
    path = write_scenario(tmp_path, [("lead_time_days = 18", "lead_time_days = -3")])
    argv = [*command(), "validate", str(path)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done
    assert done.stderr.startswith(
        f"error: {path}:{line_of(path, 'lead_time_days')}: lanes.qa_jp.lead_time_days: "
        "expected a number >= 1; found -3"
    ), done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_a_device_file_is_refused_not_read_forever(capsys: pytest.CaptureFixture[str]) -> None:
    """/dev/zero reports size 0 and never ends; the loader must refuse it rather than hang."""
    assert main(["validate", "/dev/zero"]) == 2
    err = capsys.readouterr().err
    assert "/dev/zero: is not a regular file" in err
