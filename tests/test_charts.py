"""The report chart draws Chinese labels with a font that has their glyphs (no tofu boxes)."""

from __future__ import annotations

import datetime as dt
import io
import warnings

from PIL import Image

from bot.charts import report_chart
from bot.services.reports import build_report
from bot.services.workspaces import get_workspace
from tests.helpers import as_admin
from tests.slackclient import TEAM


def test_a_chinese_chart_finds_every_glyph(session):
    import matplotlib.font_manager as fm
    from matplotlib.ft2font import FT2Font

    get_workspace(session, TEAM)
    session.commit()
    report = build_report(session=session, viewer=as_admin(team=TEAM), kind="week", today=dt.date(2026, 11, 25), tz=None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = report_chart("zh-CN", report)
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert missing == []
    Image.open(io.BytesIO(png)).load()
    path = fm.findfont(fm.FontProperties(family="Noto Sans CJK SC"), fallback_to_default=False)
    font = FT2Font(path)
    assert all(font.get_char_index(ord(ch)) for ch in "接触首次响应达成率最近期按客户经理")
