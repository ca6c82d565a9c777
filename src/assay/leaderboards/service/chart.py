"""The leaderboard as CSV and as an SVG chart. The chart is drawn by pygal (a maintained
SVG charting library) on the server: each model's rating relative to the average model
with its 95 % interval, best at the top; style-controlled ratings beside them when asked."""

from __future__ import annotations

import csv
import io
from typing import Any

import pygal
from pygal.style import Style

from assay.exports.formats.tabular import csv_cell

CHART_STYLE = Style(background="white", plot_background="white", foreground="#222", foreground_strong="#111",
                    foreground_subtle="#bbb", colors=("#3465a4", "#c17d11"), font_family="DejaVu Sans, sans-serif",
                    label_font_size=13, major_label_font_size=13, title_font_size=15, legend_font_size=13)
CSV_COLUMNS = ("slice", "model", "rank", "rank_low", "rank_high", "rank_ub", "rating", "rating_low", "rating_high", "score", "low",
               "high", "games", "win_rate", "style_rank", "style_rating", "style_rating_low", "style_rating_high")


class _SafeWriter(csv.DictWriter):
    """Model names and slice values come from task content: never formulas."""

    def writerow(self, rowdict):
        return super().writerow({k: csv_cell(v) for k, v in rowdict.items()})


def to_csv(board: dict[str, Any]) -> str:
    """One row per model for the whole leaderboard (slice "all"), then per slice value."""
    buf = io.StringIO()
    writer = _SafeWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    styled = {row["model"]: row for row in (board.get("style_control") or {}).get("models", [])}
    for row in board["models"]:
        style = styled.get(row["model"], {})
        writer.writerow({"slice": "all", **row, "style_rank": style.get("rank"), "style_rating": style.get("rating"),
                         "style_rating_low": style.get("rating_low"), "style_rating_high": style.get("rating_high")})
    for entry in (board.get("slice") or {}).get("values", []):
        for row in entry["models"]:
            writer.writerow({"slice": f"{board['slice']['key']}={entry['value']}", **row})
    return buf.getvalue()


def to_svg(board: dict[str, Any], width: int = 860) -> str:
    """A horizontal bar chart: rating minus 1000 (the average model) per model, with the
    interval drawn as a whisker."""
    rows = board["models"]
    chart = pygal.HorizontalBar(style=CHART_STYLE, width=width, height=max(220, 70 + 38 * len(rows) * (2 if board.get("style_control") else 1)),
                                js=[], disable_xml_declaration=True, show_legend=bool(board.get("style_control")), legend_at_bottom=True,
                                title="Rating vs the average model (Elo points, 95 % interval)", print_values=False,
                                x_title="Elo points above (+) or below (−) the average model")
    bars = [_bar(r) for r in rows] + [_bar(r) for r in (board.get("style_control") or {}).get("models", [])]
    if bars:  # the value axis spans every interval, whiskers included
        low, high = min(b["ci"]["low"] for b in bars), max(b["ci"]["high"] for b in bars)
        pad = max(10.0, 0.05 * (high - low))
        chart.range = (min(0.0, low) - pad, max(0.0, high) + pad)
    top_first = list(reversed(rows))  # pygal draws the first label at the bottom
    chart.x_labels = [r["model"] for r in top_first]
    chart.add("rating", [_bar(r) for r in top_first])
    if board.get("style_control"):
        styled = {r["model"]: r for r in board["style_control"]["models"]}
        chart.add("style-controlled", [_bar(styled[r["model"]]) if r["model"] in styled else None for r in top_first])
    if not rows:
        chart.no_data_text = "No judged chat tasks yet"
    return chart.render(is_unicode=True)


def _bar(row: dict[str, Any]) -> dict[str, Any]:
    base = 1000.0
    return {"value": round(row["rating"] - base, 1), "ci": {"low": round(row["rating_low"] - base, 1), "high": round(row["rating_high"] - base, 1)},
            "label": f"{row['rating']:.0f} ({row['rating_low']:.0f}–{row['rating_high']:.0f})"}
