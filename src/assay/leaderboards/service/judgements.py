"""Chat answers as judgements between models: each answer of a chat task compares the
task's responses, and a response names its model (`responses[].model`).

* pairwise: one judgement, the winner's model against the other's (a tie: 0.5);
* ranking: every pair of the ranked responses, the better one winning;
* rubric: every pair, compared on the mean of their criterion scores (equal: a tie);
* ideal_response: no judgement.

Responses without a model, and pairs of responses from the same model, give none. The
judgements of one answer stay together in the bootstrap (their cluster is the task)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assay.quality.style_control import text_style
from assay.tasktypes.chat import TIE


@dataclass
class Judgements:
    """Parallel lists, one entry per judgement; `models` names the model indices."""

    models: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    a: list[int] = field(default_factory=list)
    b: list[int] = field(default_factory=list)
    outcome: list[float] = field(default_factory=list)
    task: list[int] = field(default_factory=list)
    slice: list[Any] = field(default_factory=list)
    style_a: list[tuple[int, ...]] = field(default_factory=list)
    style_b: list[tuple[int, ...]] = field(default_factory=list)
    answers: int = 0
    skipped: int = 0  # answers that compared no two models

    def model(self, name: str) -> int:
        if name not in self.index:
            self.index[name] = len(self.models)
            self.models.append(name)
        return self.index[name]

    def add(self, first: dict, second: dict, outcome: float, task: int, slice_value: Any) -> bool:
        ma, mb = first.get("model"), second.get("model")
        if not isinstance(ma, str) or not isinstance(mb, str) or not ma.strip() or not mb.strip() or ma == mb:
            return False
        self.a.append(self.model(ma))
        self.b.append(self.model(mb))
        self.outcome.append(outcome)
        self.task.append(task)
        self.slice.append(slice_value)
        self.style_a.append(text_style(first.get("content") or ""))
        self.style_b.append(text_style(second.get("content") or ""))
        return True


def _pairs(params: dict[str, Any], response: dict[str, Any]) -> list[tuple[str, str, float]]:
    """(response id, response id, outcome for the first) of one answer."""
    mode = params.get("evaluation")
    ids = [r.get("id") for r in params.get("responses") or [] if isinstance(r, dict)]
    if mode == "pairwise" and len(ids) == 2 and isinstance(response.get("preference"), dict):
        winner = response["preference"].get("winner")
        if winner == TIE:
            return [(ids[0], ids[1], 0.5)]
        if winner in ids:
            return [(ids[0], ids[1], 1.0 if winner == ids[0] else 0.0)]
    if mode == "ranking" and isinstance(response.get("ranking"), list):
        ranked = [r for r in response["ranking"] if r in ids]
        return [(ranked[i], ranked[j], 1.0) for i in range(len(ranked)) for j in range(i + 1, len(ranked))]
    if mode == "rubric" and isinstance(response.get("scores"), dict):
        means = {}
        for rid, criteria in response["scores"].items():
            values = [c.get("score") for c in criteria.values() if isinstance(c, dict) and isinstance(c.get("score"), int)]
            if rid in ids and values:
                means[rid] = sum(values) / len(values)
        scored = [r for r in ids if r in means]
        return [(x, y, 1.0 if means[x] > means[y] else 0.0 if means[x] < means[y] else 0.5)
                for i, x in enumerate(scored) for y in scored[i + 1:]]
    return []


def add_answer(into: Judgements, task: int, params: dict[str, Any], response: dict[str, Any], slice_value: Any) -> None:
    """Add the judgements of one answer to `into`."""
    by_id = {r.get("id"): r for r in params.get("responses") or [] if isinstance(r, dict)}
    into.answers += 1
    added = 0
    for first, second, outcome in _pairs(params, response or {}):
        if first in by_id and second in by_id:
            added += into.add(by_id[first], by_id[second], outcome, task, slice_value)
    if not added:
        into.skipped += 1
