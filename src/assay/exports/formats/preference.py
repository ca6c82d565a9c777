"""Preference and evaluation data from chat tasks, as JSON lines, each line with the
task's consolidated confidence so a team can filter by it:

* dpo: TRL's conversational preference form, `prompt` (the messages), `chosen` and
  `rejected` (one assistant message each) — from pairwise judgements (ties left out) and
  from rankings (every better/worse pair), and from live-chat transcripts (`multichat`:
  each turn's chosen or edited reply against every other reply, the conversation so far
  as the prompt);
* reward: the same pairs with a `margin`: the judged strength's rank (1 for the first
  of `strength_levels`) for pairwise, the distance in the ranking for rankings;
* ranking: the responses and the ranking (best first) as lists;
* rubric: one line per response, its score per criterion (and justifications)."""

from __future__ import annotations

from itertools import combinations
from typing import Any, Iterator

import orjson

from assay.exports.formats.base import Context, Format, Pages, answer_of, confidence_of
from assay.tasktypes.multichat import preference_pairs as transcript_pairs

CHAT = ("chat",)
PAIRS = ("chat", "multichat")
DEFAULT_STRENGTHS = ["slightly better", "better", "much better"]


def _responses(params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for i, item in enumerate(params.get("responses") or []):
        if isinstance(item, dict):
            out[item.get("id") or chr(ord("A") + i)] = item
    return out


def _assistant(response: dict[str, Any]) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": response.get("content", "")}]


def pairs(row: dict[str, Any]) -> Iterator[tuple[str, str, int]]:
    """(better id, worse id, margin) of a pairwise or ranking answer."""
    params = row.get("params") or {}
    answer = answer_of(row) or {}
    ids = list(_responses(params))
    preference = answer.get("preference")
    if isinstance(preference, dict) and preference.get("winner") in ids:
        winner = preference["winner"]
        loser = next(i for i in ids if i != winner)
        levels = params.get("strength_levels", DEFAULT_STRENGTHS)
        strength = preference.get("strength")
        yield winner, loser, (levels.index(strength) + 1) if strength in (levels or []) else 1
    ranking = answer.get("ranking")
    if isinstance(ranking, list):
        for (i, better), (j, worse) in combinations(enumerate(ranking), 2):
            yield better, worse, j - i


def _line(row: dict[str, Any], **fields: Any) -> bytes:
    return orjson.dumps({"task_id": row["task_id"], **fields, "confidence": confidence_of(row), "labels": (row.get("quality") or {}).get("labels"),
                         "metadata": row.get("metadata") or {}})


def _transcript_lines(row: dict[str, Any], with_margin: bool) -> list[bytes]:
    """A live-chat transcript's turns as pairs (no judged strength: margin 1)."""
    out = []
    for pair in transcript_pairs(row.get("params") or {}, answer_of(row) or {}):
        fields: dict[str, Any] = {"prompt": pair["prompt"], "chosen": _assistant({"content": pair["chosen"]}),
                                  "rejected": _assistant({"content": pair["rejected"]}),
                                  "chosen_model": pair["chosen_model"], "rejected_model": pair["rejected_model"]}
        if with_margin:
            fields["margin"] = 1
        out.append(_line(row, **fields))
    return out


def _pairs_lines(pages: Pages, with_margin: bool) -> Iterator[bytes]:
    for page in pages:
        out = []
        for row in page:
            if row.get("type") == "multichat":
                out.extend(_transcript_lines(row, with_margin))
                continue
            params = row.get("params") or {}
            responses = _responses(params)
            strength = ((answer_of(row) or {}).get("preference") or {}).get("strength")
            for better, worse, margin in pairs(row):
                fields: dict[str, Any] = {"prompt": params.get("messages") or [], "chosen": _assistant(responses[better]),
                                          "rejected": _assistant(responses[worse]), "chosen_id": better, "rejected_id": worse,
                                          "chosen_model": responses[better].get("model"), "rejected_model": responses[worse].get("model")}
                if with_margin:
                    fields["margin"] = margin
                    fields["strength"] = strength
                out.append(_line(row, **fields))
        if out:
            yield b"\n".join(out) + b"\n"


def dpo(pages: Pages, context: Context) -> Iterator[bytes]:
    yield from _pairs_lines(pages, with_margin=False)


def reward(pages: Pages, context: Context) -> Iterator[bytes]:
    yield from _pairs_lines(pages, with_margin=True)


def ranking(pages: Pages, context: Context) -> Iterator[bytes]:
    for page in pages:
        out = []
        for row in page:
            order = (answer_of(row) or {}).get("ranking")
            if isinstance(order, list):
                responses = _responses(row.get("params") or {})
                out.append(_line(row, prompt=(row.get("params") or {}).get("messages") or [], ranking=order,
                                 responses=[{"id": rid, "model": responses[rid].get("model"), "content": responses[rid].get("content")}
                                            for rid in order if rid in responses],
                                 scores=(row.get("quality") or {}).get("scores")))
        if out:
            yield b"\n".join(out) + b"\n"


def rubric(pages: Pages, context: Context) -> Iterator[bytes]:
    for page in pages:
        out = []
        for row in page:
            params = row.get("params") or {}
            responses = _responses(params)
            for rid, cells in ((answer_of(row) or {}).get("scores") or {}).items():
                response = responses.get(rid, {})
                out.append(_line(row, prompt=params.get("messages") or [], response_id=rid, model=response.get("model"),
                                 response=response.get("content"), scores={c: v.get("score") for c, v in cells.items()},
                                 justifications={c: v["justification"] for c, v in cells.items() if v.get("justification")},
                                 scale={c["id"]: c.get("scale", 5) for c in params.get("rubric") or []}))
        if out:
            yield b"\n".join(out) + b"\n"


DPO = Format("dpo", "DPO pairs (prompt, chosen, rejected; JSON lines)", "jsonl", "application/x-ndjson", PAIRS, write=dpo)
REWARD = Format("reward", "Reward-model pairs with margins (JSON lines)", "jsonl", "application/x-ndjson", PAIRS, write=reward)
RANKING = Format("ranking", "Rankings as lists (JSON lines)", "jsonl", "application/x-ndjson", CHAT, write=ranking)
RUBRIC = Format("rubric", "Rubric scores per criterion (JSON lines)", "jsonl", "application/x-ndjson", CHAT, write=rubric)
