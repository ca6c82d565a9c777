"""Charts as server-rendered SVG through pygal, embedded as `data:` images: the page's
CSP runs only our scripts, and an SVG shown as an image runs none (pygal's tooltip
script is left out). The numbers come from the JSON twin's data, unchanged."""

from __future__ import annotations

import base64
from typing import Any

import pygal
from pygal.style import Style

STYLE = Style(background="white", plot_background="white", foreground="#333", foreground_strong="#111", foreground_subtle="#ddd",
              colors=("#1f6feb", "#1f8a4c", "#d97706", "#b42318", "#6e40c9", "#0e7490", "#9a6700"), font_family="sans-serif",
              label_font_size=11, major_label_font_size=11, legend_font_size=11, title_font_size=13, value_font_size=10)
COMMON = {"style": STYLE, "js": [], "width": 640, "height": 260, "margin": 8, "legend_at_bottom": True, "legend_box_size": 10,
          "disable_xml_declaration": True, "show_minor_x_labels": False, "x_label_rotation": 0, "truncate_legend": 30}


def _uri(chart) -> str:
    svg = chart.render()
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode() if isinstance(svg, str) else svg).decode()


def _short(day: str) -> str:
    return day[5:]  # MM-DD


def _chart(kind, title: str, labels: list[str], series: list[tuple[str, list]], major_every: int = 1, **options) -> dict[str, str]:
    chart = kind(title=title, **{**COMMON, **options})
    chart.x_labels = labels
    if major_every > 1:
        chart.x_labels_major = labels[::major_every]
    for name, values in series:
        chart.add(name, values)
    return {"title": title, "src": _uri(chart)}


def trend_charts(data: dict[str, Any]) -> list[dict[str, str]]:
    """The charts page's figures from `insights.service.trends.trends` data."""
    days = [_short(d) for d in data["days"]]
    daily = data["daily"]
    every = max(1, len(days) // 7)
    charts = [
        _chart(pygal.Bar, "Throughput per day", days, [("labels", [r["labels"] for r in daily]), ("tasks completed", [r["completed"] for r in daily])],
               every),
        _chart(pygal.Line, "Backlog (tasks left at the end of the day)", days, [("tasks left", [r["left"] for r in data["backlog"]])], every,
               fill=True),
        _chart(pygal.Bar, "Labels per hour (last 48 h)", [h["hour"][11:13] for h in data["hourly"]],
               [("labels", [h["labels"] for h in data["hourly"]])], 6, truncate_label=-1),
        _chart(pygal.Line, "Labels per day by person", days, [(p["email"], p["labels"]) for p in data["people"]], every),
        _chart(pygal.Line, "Agreement and gold accuracy per week", [w["week"] for w in data["weekly"]],
               [("agreement with the consensus", [w["agreement"] for w in data["weekly"]]),
                ("gold accuracy", [w["gold_accuracy"] for w in data["weekly"]])], range=(0, 1), value_formatter=lambda v: f"{v:.0%}"),
        _chart(pygal.Line, "Review rejection rate per day", days, [("rejected / reviewed", [r["rejection_rate"] for r in daily])], every,
               range=(0, 1), value_formatter=lambda v: f"{v:.0%}"),
        _chart(pygal.Bar, "Active time per task (labels by person-hour mean)", [b["bucket"] for b in data["active_time"]],
               [("labels", [b["labels"] for b in data["active_time"]])]),
        _chart(pygal.Line, f"Cost per label per day ({data['cost']['currency'] or 'no rates set'})", days,
               [("cost per label", [r["per_label"] for r in data["cost"]["daily"]])], every),
    ]
    return charts


def burndown(backlog: list[dict[str, Any]]) -> dict[str, str]:
    days = [_short(r["day"]) for r in backlog]
    return _chart(pygal.Line, "Burn-down: tasks left", days, [("tasks left", [r["left"] for r in backlog])], max(1, len(days) // 7),
                  fill=True, height=200)
