"""Plots, written as PNG and SVG with matplotlib (the ``plots`` extra).

matplotlib is imported inside each function, with the non-interactive Agg backend, so that a
command that draws nothing never pays for it, and a machine without a display can draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from resilience.errors import ResilienceError

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "PlotsUnavailableError",
    "criticality_plot",
    "exceedance_plot",
    "fan_chart",
    "frontier_plot",
    "survive_recover_plot",
    "tornado_plot",
]


class PlotsUnavailableError(ResilienceError):
    """matplotlib is not installed."""


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise PlotsUnavailableError(
            "plots need matplotlib: pip install 'resilience[plots]'"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def frontier_plot(
    cost: npt.ArrayLike,
    risk: npt.ArrayLike,
    on_front: npt.ArrayLike,
    *,
    labels: Sequence[str],
    title: str,
    risk_label: str,
    out: Path,
) -> list[Path]:
    """Cost against risk for every design point, the frontier joined by a line.

    Args:
        cost: (P,) currency per year; risk: (P,) in the risk measure's unit.
        on_front: (P,) bool, `pareto_front`'s mask.
        labels: (P,) text beside each frontier point (its lever values).
        out: the directory; writes ``frontier.png`` and ``frontier.svg``.
    """
    plt = _pyplot()
    c, r = np.asarray(cost, dtype=float), np.asarray(risk, dtype=float)
    front = np.asarray(on_front, dtype=bool)
    figure, axes = plt.subplots(figsize=(7.5, 5.0), dpi=120)
    axes.scatter(c[~front], r[~front], s=18, color="0.65", label="dominated")
    order = np.argsort(c[front])
    axes.plot(c[front][order], r[front][order], "o-", color="tab:blue", label="Pareto frontier")
    for x, y, text in zip(c[front], r[front], np.asarray(labels)[front], strict=True):
        axes.annotate(text, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    axes.set_xlabel("annual cost of the network (currency per year)")
    axes.set_ylabel(risk_label)
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    paths = [out / "frontier.png", out / "frontier.svg"]
    for path in paths:
        figure.savefig(path)
    plt.close(figure)
    return paths


def _save(plt: Any, figure: Any, out: Path, name: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    paths = [out / f"{name}.png", out / f"{name}.svg"]
    for path in paths:
        figure.savefig(path)
    plt.close(figure)
    return paths


def _grid(plt: Any, count: int) -> tuple[Any, list[Any]]:
    columns = min(3, count)
    rows = -(-count // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(4.0 * columns, 2.8 * rows), dpi=110, squeeze=False
    )
    flat = list(axes.ravel())
    for extra in flat[count:]:
        extra.set_visible(False)
    return figure, flat[:count]


def fan_chart(bands: dict[str, dict[str, list[float]]], *, out: Path) -> list[Path]:
    """Daily service (served / demand) per consumer: the median and the 5-95% band by day.

    Args:
        bands: consumer -> {"p5", "p50", "p95"}: (H,) daily service quantiles (summary.json).
    """
    plt = _pyplot()
    figure, axes = _grid(plt, len(bands))
    for ax, (consumer, band) in zip(axes, bands.items(), strict=True):
        days = np.arange(len(band["p50"]))
        ax.fill_between(days, band["p5"], band["p95"], color="tab:blue", alpha=0.25,
                        label="5-95%")  # fmt: skip
        ax.plot(days, band["p50"], color="tab:blue", lw=1.2, label="median")
        ax.set_ylim(-0.02, 1.05)
        ax.set_title(consumer, fontsize=9)
        ax.set_xlabel("day", fontsize=8)
        ax.set_ylabel("service", fontsize=8)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="lower left")
    figure.suptitle("Daily service by consumer (served / demand)", fontsize=10)
    return _save(plt, figure, out, "service_bands")


def exceedance_plot(shortfall_share: dict[str, FloatArray], *, out: Path) -> list[Path]:
    """P(shortfall > x) against x, per consumer, with x as a share of the consumer's demand so
    that commodities in different units share one chart.

    Args:
        shortfall_share: consumer -> (replications,) total shortfall / mean total demand.
    """
    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(7.0, 4.5), dpi=110)
    for consumer, values in shortfall_share.items():
        ordered = np.sort(values)
        n = ordered.size
        exceed = 1.0 - np.arange(1, n + 1) / n  # P(X > x) at each sorted value
        ax.step(ordered * 100, exceed, where="post", label=consumer)
    ax.set_yscale("log")
    ax.set_xlabel("shortfall, % of the consumer's demand over the horizon")
    ax.set_ylabel("P(shortfall > x)")
    ax.set_title("Exceedance of shortfall", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return _save(plt, figure, out, "exceedance")


def survive_recover_plot(
    times: dict[str, tuple[FloatArray, FloatArray]], *, out: Path
) -> list[Path]:
    """Distributions of time to survive and time to recover, per consumer (days).

    Args:
        times: consumer -> (TTS values, TTR values) over the replications with a shortfall.
    """
    plt = _pyplot()
    figure, axes = _grid(plt, len(times))
    for ax, (consumer, (tts, ttr)) in zip(axes, times.items(), strict=True):
        top = max(float(np.max(tts, initial=1)), float(np.max(ttr, initial=1)))
        bins = np.linspace(0, top + 1, 30)
        ax.hist(tts, bins=bins, alpha=0.6, label="TTS", color="tab:orange")
        ax.hist(ttr, bins=bins, alpha=0.6, label="TTR", color="tab:purple")
        ax.set_title(consumer, fontsize=9)
        ax.set_xlabel("days", fontsize=8)
        ax.set_ylabel("replications", fontsize=8)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    figure.suptitle("Time to survive and to recover", fontsize=10)
    return _save(plt, figure, out, "tts_ttr")


def criticality_plot(ranking: list[dict[str, Any]], *, out: Path, top: int = 15) -> list[Path]:
    """The most critical elements as horizontal bars of extra shortfall (% of demand)."""
    plt = _pyplot()
    shown = ranking[:top][::-1]
    figure, ax = plt.subplots(figsize=(7.5, 0.35 * len(shown) + 1.5), dpi=110)
    labels = [f"{row['kind']} {row['element']} ({row['consumer']})" for row in shown]
    ax.barh(labels, [row["delta_share_short"] * 100 for row in shown], color="tab:red")
    ax.set_xlabel("extra shortfall of the worst-hit consumer, % of its demand")
    ax.set_title("Criticality: knockout of each element", fontsize=10)
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(alpha=0.3, axis="x")
    return _save(plt, figure, out, "criticality")


def tornado_plot(
    indices: dict[str, list[dict[str, Any]]],
    *,
    method: str,
    risk_label: str,
    out: Path,
    top: int = 15,
) -> list[Path]:
    """A tornado chart per output: each input's index as a horizontal bar, the largest on top.

    Args:
        indices: output (consumer) -> rows of `resilience.analysis.sensitivity.Indices.rows`.
            Sobol rows draw ST as the bar, S1 as a narrower bar inside it, and the bootstrap
            intervals as whiskers; Morris rows draw mu* with its interval, and sigma as a dot.
        method: ``sobol`` or ``morris``; risk_label: the output measured (for the axis).
        out: the directory; writes ``tornado.png`` and ``tornado.svg``.
    """
    plt = _pyplot()
    count = len(indices)
    height = max(min(top, max(len(rows) for rows in indices.values())), 1)
    figure, axes = plt.subplots(
        count, 1, figsize=(7.5, (0.45 * height + 1.2) * count), dpi=110, squeeze=False
    )
    for ax, (output, rows) in zip(axes[:, 0], indices.items(), strict=True):
        shown = rows[:top][::-1]  # rows come most important first; barh draws bottom-up
        labels = [row["input"] for row in shown]
        y = np.arange(len(shown))
        if method == "sobol":
            total = np.array([row["total"] for row in shown])
            first = np.array([row["first"] for row in shown])
            ax.barh(y, total, height=0.7, color="tab:blue", alpha=0.45, label="total (ST)")
            ax.barh(y, first, height=0.35, color="tab:blue", label="first order (S1)")
            ax.errorbar(
                total, y, fmt="none", ecolor="0.2", capsize=3, lw=0.8,
                xerr=_whiskers(total, shown, "total"),
            )  # fmt: skip
            ax.set_xlabel(f"Sobol index of {risk_label} (share of its variance)")
            ax.axvline(0.0, color="0.3", lw=0.6)
        else:
            mu_star = np.array([row["mu_star"] for row in shown])
            ax.barh(y, mu_star, height=0.7, color="tab:green", label="mu* (mean |effect|)")
            ax.errorbar(
                mu_star, y, fmt="none", ecolor="0.2", capsize=3, lw=0.8,
                xerr=_whiskers(mu_star, shown, "mu_star"),
            )  # fmt: skip
            ax.plot([row["sigma"] for row in shown], y, "o", color="tab:orange", ms=4,
                    label="sigma (interactions)")  # fmt: skip
            ax.set_xlabel(f"change of {risk_label} per full range of the input")
        ax.set_yticks(y, labels, fontsize=7)
        ax.set_title(output, fontsize=9)
        ax.grid(alpha=0.3, axis="x")
        ax.legend(fontsize=7, loc="lower right")
    figure.suptitle(f"Sensitivity ({method}): the inputs that move the output most", fontsize=10)
    return _save(plt, figure, out, "tornado")


def _whiskers(value: FloatArray, rows: Sequence[dict[str, Any]], name: str) -> FloatArray:
    """(2, k) distances from each bar's end to its interval's ends (never negative)."""
    low = np.array([row[f"{name}_low"] for row in rows])
    high = np.array([row[f"{name}_high"] for row in rows])
    return np.vstack([np.maximum(value - low, 0.0), np.maximum(high - value, 0.0)])
