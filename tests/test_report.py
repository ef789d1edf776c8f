"""`resilience plot` and `resilience report`, and the report in a real browser.

The browser test opens the report in headless Chromium (Debian's package; .ci/run installs it)
through Playwright, with no network: the page must load with no console error and no failed
request, and every plot must be a visible, non-blank image. It is skipped on a developer
machine without Chromium and fails in CI (CI=true) if Chromium is missing.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

from .test_run_directories import interrupted_run, refused, resilience

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo run with bands, then its report."""
    base = tmp_path_factory.mktemp("report")
    out = base / "demo"
    result = resilience("run", "demo", "-n", "400", "--bands", "--out", str(out), cwd=base)
    assert result.returncode == 0, result.stderr
    report = resilience("report", str(out), cwd=base)
    assert report.returncode == 0, report.stderr
    assert f"wrote {out / 'report.html'}" in report.stdout
    return out


def test_report_and_plots_are_written(run_dir: Path) -> None:
    html = (run_dir / "report.html").read_text()
    assert "If the Strait of Hormuz closes" in html  # the question: the scenario's description
    assert "tw_lng" in html  # the consumer short in every replication of the demo
    assert "resilience run demo -n 400 --bands" in html  # provenance: the command line
    assert "What the model leaves out" in html
    assert html.count("data:image/png;base64,") == 3
    assert "http://" not in html  # nothing to fetch
    assert "https://" not in html
    names = {path.name for path in (run_dir / "plots").iterdir()}
    assert names == {f"{plot}.{ext}" for plot in ("service_bands", "exceedance", "tts_ttr")
                     for ext in ("png", "svg")}  # fmt: skip


def test_report_in_headless_chromium(run_dir: Path, tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing; .ci/run installs Debian's chromium package")
        pytest.skip("Chromium is not installed on this machine (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("requestfailed", lambda request: errors.append(f"failed: {request.url}"))
        page.goto((run_dir / "report.html").as_uri(), wait_until="load")
        assert page.title().startswith("demo")
        assert "ran short" in page.inner_text("#answer")
        images = page.locator("figure img")
        assert images.count() == 3
        for i in range(images.count()):
            picture = images.nth(i)
            assert picture.evaluate("img => img.complete && img.naturalWidth > 200")
            box = picture.bounding_box()
            assert box is not None
            assert box["width"] > 200
            assert box["height"] > 150
            pixels = image.imread(io.BytesIO(picture.screenshot()), format="png")
            assert float(np.std(pixels[..., :3])) > 0.02, f"plot {i} is blank"
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert errors == []
    assert (tmp_path / "report.png").stat().st_size > 50_000


def test_plot_and_report_refuse_a_missing_directory(tmp_path: Path) -> None:
    for command in ("plot", "report"):
        refused(resilience(command, str(tmp_path / "nowhere"), cwd=tmp_path), "no such directory")


def test_plot_and_report_refuse_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "papers").mkdir()
    (tmp_path / "papers" / "notes.txt").write_text("mine\n")
    for command in ("plot", "report"):
        result = resilience(command, str(tmp_path / "papers"), cwd=tmp_path)
        refused(result, "is not a run directory (no manifest.json)")
    assert [path.name for path in (tmp_path / "papers").iterdir()] == ["notes.txt"]


def test_plot_and_report_refuse_an_incomplete_run(tmp_path: Path) -> None:
    out = tmp_path / "cut"
    interrupted_run(out, tmp_path)
    for command in ("plot", "report"):
        refused(resilience(command, str(out), cwd=tmp_path), "holds an incomplete run")
    assert not (out / "report.html").exists()
