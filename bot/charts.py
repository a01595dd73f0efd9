"""The reports' charts, PNGs drawn with matplotlib's Agg backend (no display needed): the
KPI report's and the churn report's.

matplotlib is imported here, inside the function, so the bot starts without loading it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from bot.i18n import format_period, t
from bot.services.churn import ChurnReport
from bot.services.lifecycle import REASONS
from bot.services.reports import TEAM, Report

# Labels and names may be Chinese: matplotlib falls back glyph by glyph along this list. The
# Noto Sans CJK SC font ships with the `mplfonts` package, so no system font is needed.
FONTS = ["DejaVu Sans", "Noto Sans CJK SC", "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC"]
SHIPPED_CJK_FONT = ("mplfonts", "fonts/NotoSansCJKsc-Regular.otf")


def report_chart(locale: str | None, report: Report) -> bytes:
    """Left: touches and first-response SLA met % per owner this period. Right: the trend."""
    return _with_fonts(_draw, locale, report)


def churn_chart(locale: str | None, report: ChurnReport) -> bytes:
    """Left: customers lost and the churn rate over the last 8 periods. Right: this period's
    customers lost by reason."""
    return _with_fonts(_draw_churn, locale, report)


def _with_fonts(draw: Callable[[str | None, Any], bytes], locale: str | None, report: Any) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.font_manager

    _add_shipped_font(matplotlib.font_manager)
    # A list of families (not the generic "sans-serif") is what makes matplotlib fall back per glyph.
    with matplotlib.rc_context({"font.family": [f for f in FONTS if _installed(matplotlib.font_manager, f)]}):
        return draw(locale, report)


def _add_shipped_font(font_manager: object) -> None:
    """Register the packaged CJK font once per process (it is not a system font)."""
    import importlib.util
    from pathlib import Path

    if _installed(font_manager, "Noto Sans CJK SC"):
        return
    spec = importlib.util.find_spec(SHIPPED_CJK_FONT[0])
    if spec is None or not spec.submodule_search_locations:
        return
    path = Path(next(iter(spec.submodule_search_locations))) / SHIPPED_CJK_FONT[1]
    if path.exists():
        font_manager.fontManager.addfont(str(path))  # type: ignore[attr-defined]


def _installed(font_manager: object, family: str) -> bool:
    return any(f.name == family for f in font_manager.fontManager.ttflist)  # type: ignore[attr-defined]


def _draw(locale: str | None, report: Report) -> bytes:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4.5), dpi=100)
    left, right = figure.subplots(1, 2)
    owners = report.owners or [TEAM]
    labels = [report.names.get(m, m) for m in owners]
    touches = [report.current[m].touches for m in owners]
    sla = [report.current[m].first_response_sla_pct for m in owners]
    xs = range(len(owners))
    left.bar(xs, touches, color="#4a7bd0", label=t(locale, "report.chart.touches"))
    left.set_xticks(list(xs), labels, rotation=30, ha="right")
    left.set_ylabel(t(locale, "report.chart.touches"))
    left.set_title(t(locale, "report.chart.per_owner"))
    sla_axis = left.twinx()
    sla_axis.plot(xs, [s if s is not None else float("nan") for s in sla], "o", color="#d0624a")
    sla_axis.set_ylim(0, 105)
    sla_axis.set_ylabel(t(locale, "report.chart.sla"))

    periods = [p.period.first_day.isoformat() for p in report.trend]
    right.plot(periods, [p.touches for p in report.trend], "-o", color="#4a7bd0")
    right.set_ylim(bottom=0)
    right.set_ylabel(t(locale, "report.chart.touches"))
    right.set_title(t(locale, "report.chart.trend"))
    right.tick_params(axis="x", labelrotation=30)
    trend_sla = right.twinx()
    trend_sla.plot(
        periods, [p.first_response_sla_pct if p.first_response_sla_pct is not None else float("nan") for p in report.trend],
        "--s", color="#d0624a",
    )  # fmt: skip
    trend_sla.set_ylim(0, 105)
    trend_sla.set_ylabel(t(locale, "report.chart.sla"))
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _draw_churn(locale: str | None, report: ChurnReport) -> bytes:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4.5), dpi=100)
    left, right = figure.subplots(1, 2)
    labels = [format_period(locale, f.period.kind, f.period.first_day) for f in report.periods]
    xs = list(range(len(labels)))
    left.bar(xs, [f.lost for f in report.periods], color="#d0624a")
    left.set_xticks(xs, labels, rotation=30, ha="right")
    left.set_ylabel(t(locale, "churn.chart.lost"))
    left.set_title(t(locale, "churn.chart.trend"))
    rate = left.twinx()
    rate.plot(xs, [f.churn_rate if f.churn_rate is not None else float("nan") for f in report.periods], "-o",
              color="#4a7bd0")  # fmt: skip
    rate.set_ylim(bottom=0)
    rate.set_ylabel(t(locale, "churn.chart.rate"))

    by_reason = report.current.by_reason
    reasons = [r for r in REASONS if r in by_reason] or list(REASONS)
    ys = list(range(len(reasons)))
    right.barh(ys, [by_reason.get(r, (0, 0))[0] for r in reasons], color="#d0624a")
    right.set_yticks(ys, [t(locale, f"lost.reason.{r}") for r in reasons])
    right.invert_yaxis()
    right.set_xlabel(t(locale, "churn.chart.lost"))
    right.set_title(t(locale, "churn.chart.reasons"))
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
