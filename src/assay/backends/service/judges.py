"""An LLM judge: a chat task shown to a model behind an OpenAI-compatible endpoint with a
prompt template per evaluation mode, its JSON verdict parsed back into the task type's
response format (a pre-label people accept or edit).

A pairwise task is judged twice when `swap_positions` is on, with the responses in both
orders: the two verdicts must name the same winner (or both a tie) to count; an
inconsistent pair is stored as such and gives no pre-label. Rankings and rubric scores are
judged once. Calls for a batch of tasks run `concurrency` at a time; a failed call (a
timeout, an error status, a reply that is not the asked JSON) leaves that task without a
verdict until the next round and is reported, never raised to labelers."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson

from assay.backends.models import ProjectModel
from assay.backends.service.openai import ChatError, complete
from assay.errors import InvalidRequest
from assay.tasktypes import get_plugin
from assay.tasktypes.chat import DEFAULT_STRENGTHS, TIE

MODES = ("pairwise", "ranking", "rubric")
SYSTEM = "You are an impartial expert judge of AI assistant responses. Judge helpfulness, correctness and harmlessness, not length."
DEFAULT_PROMPTS = {
    "pairwise": "Here is a conversation and two candidate responses to its last turn.\n\n{conversation}\n\n"
                "[Response A]\n{response_a}\n\n[Response B]\n{response_b}\n\nWhich response is better?",
    "ranking": "Here is a conversation and {count} candidate responses to its last turn.\n\n{conversation}\n\n{responses}\n\n"
               "Rank all responses from best to worst.",
    "rubric": "Here is a conversation and {count} candidate responses to its last turn.\n\n{conversation}\n\n{responses}\n\n"
              "Score every response on every criterion:\n{rubric}",
}
SCORE = {"consistent": 0.9, "consistent_strength_differs": 0.8, "single": 0.6}  # coarse; auto-accept calibrates on it
_FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.S)


class _Format(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"  # an unknown placeholder stays as written


@dataclass
class Judged:
    """One task's outcome: the prediction (or None), the verdict row, or an error."""

    prediction: dict[str, Any] | None = None
    verdict: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class BatchResult:
    judged: list[Judged] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [j.error for j in self.judged if j.error]


def _conversation(params: dict[str, Any]) -> str:
    return "\n\n".join(f"[{m.get('role', 'user')}]\n{m.get('content', '')}" for m in params.get("messages") or [] if isinstance(m, dict))


def _answer_format(mode: str, params: dict[str, Any], count: int) -> str:
    if mode == "pairwise":
        levels = params.get("strength_levels")
        levels = DEFAULT_STRENGTHS if levels is None else levels
        tie = ' or "tie"' if params.get("allow_ties", True) else ""
        strength = f', "strength": one of {", ".join(orjson.dumps(x).decode() for x in levels)}' if levels else ""
        return f'Answer with JSON only: {{"winner": "A" or "B"{tie}{strength}, "justification": "one or two sentences"}}'
    if mode == "ranking":
        return f'Answer with JSON only: {{"ranking": [the response numbers 1 to {count}, best first], "justification": "..."}}'
    return ('Answer with JSON only: {"scores": {"<response number>": {"<criterion id>": {"score": <integer>, '
            '"justification": "..."}}}}')


def _prompt(model: ProjectModel, mode: str, params: dict[str, Any], shown: list[dict]) -> list[dict[str, str]]:
    template = (model.prompts or {}).get(mode) or DEFAULT_PROMPTS[mode]
    blocks = "\n\n".join(f"[Response {i + 1}]\n{r.get('content', '')}" for i, r in enumerate(shown))
    rubric = "\n".join(f"- {c.get('id')} ({c.get('title')}, 1 to {c.get('scale', 5)}): {c.get('description') or ''}".rstrip(": ")
                       for c in params.get("rubric") or [] if isinstance(c, dict))
    values = _Format(conversation=_conversation(params), responses=blocks, rubric=rubric, count=len(shown),
                     response_a=shown[0].get("content", "") if shown else "", response_b=shown[1].get("content", "") if len(shown) > 1 else "")
    text = template.format_map(values) + "\n\n" + _answer_format(mode, params, len(shown))
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}]


def parse_reply(text: str) -> dict[str, Any]:
    """The JSON object in a model's reply (bare, or in a ```json fence)."""
    fenced = _FENCE.search(text)
    candidate = fenced.group(1) if fenced else text[text.find("{"): text.rfind("}") + 1]
    try:
        value = orjson.loads(candidate)
    except orjson.JSONDecodeError:
        raise ChatError(f"the judge's reply is not the asked JSON: {text[:200]!r}") from None
    if not isinstance(value, dict):
        raise ChatError(f"the judge's reply is not a JSON object: {text[:200]!r}")
    return value


def _pairwise_call(model: ProjectModel, params: dict[str, Any], shown: list[dict]) -> dict[str, Any]:
    reply = parse_reply(complete(model, _prompt(model, "pairwise", params, shown)))
    raw = str(reply.get("winner", "")).strip()
    by_position = {"A": shown[0]["id"], "B": shown[1]["id"], TIE: TIE, "TIE": TIE, "Tie": TIE}
    if raw not in by_position:
        raise ChatError(f"the judge named no winner (A, B or tie): {raw[:50]!r}")
    return {"order": [r["id"] for r in shown], "position": raw.upper() if raw.upper() != "TIE" else TIE, "winner": by_position[raw],
            "strength": reply.get("strength"), "justification": reply.get("justification")}


def _milder(levels: list[str], strengths: list[Any]) -> str | None:
    known = [s for s in strengths if s in levels]
    return min(known, key=levels.index) if known else None


def _judge_pairwise(model: ProjectModel, params: dict[str, Any]) -> Judged:
    responses = params["responses"]
    verdicts = [_pairwise_call(model, params, responses)]
    if model.swap_positions:
        verdicts.append(_pairwise_call(model, params, list(reversed(responses))))
    winners = {v["winner"] for v in verdicts}
    consistent = len(winners) == 1 if model.swap_positions else None
    row = {"verdicts": verdicts, "consistent": consistent, "response": None}
    if consistent is False:
        return Judged(verdict=row)
    winner = verdicts[0]["winner"]
    preference: dict[str, Any] = {"winner": winner}
    levels = params.get("strength_levels")
    levels = DEFAULT_STRENGTHS if levels is None else levels
    if winner != TIE and levels:
        strength = _milder(levels, [v["strength"] for v in verdicts])
        if strength is None:
            raise ChatError(f"the judge gave no strength among {levels}")
        preference["strength"] = strength
    response = {"preference": preference}
    if isinstance(verdicts[0]["justification"], str) and verdicts[0]["justification"].strip():
        response["justification"] = verdicts[0]["justification"]
    same_strength = len({str(v["strength"]) for v in verdicts}) == 1
    score = SCORE["single"] if consistent is None else SCORE["consistent"] if same_strength else SCORE["consistent_strength_differs"]
    return Judged(prediction={"response": response, "score": score}, verdict={**row, "response": response})


def _judge_once(model: ProjectModel, mode: str, params: dict[str, Any]) -> Judged:
    responses = params["responses"]
    reply = parse_reply(complete(model, _prompt(model, mode, params, responses)))
    by_number = {str(i + 1): r["id"] for i, r in enumerate(responses)}
    if mode == "ranking":
        ranking = reply.get("ranking")
        if not isinstance(ranking, list):
            raise ChatError("the judge's reply has no ranking list")
        response: dict[str, Any] = {"ranking": [by_number.get(str(x).strip(), str(x)) for x in ranking]}
    else:
        scores = reply.get("scores")
        if not isinstance(scores, dict):
            raise ChatError("the judge's reply has no scores")
        response = {"scores": {by_number.get(str(k).strip(), str(k)): v for k, v in scores.items()}}
    verdict = {"verdicts": [{"order": [r["id"] for r in responses], "answer": reply}], "consistent": None, "response": response}
    return Judged(prediction={"response": response, "score": SCORE["single"]}, verdict=verdict)


def judge_task(model: ProjectModel, task_type: str, params: dict[str, Any]) -> Judged:
    """Judge one chat task; a failure is returned as `error`, never raised."""
    mode = params.get("evaluation")
    if task_type != "chat" or mode not in MODES:
        return Judged(error=None)  # nothing a judge answers (an ideal response, another type)
    try:
        judged = _judge_pairwise(model, params) if mode == "pairwise" else _judge_once(model, mode, params)
        if judged.prediction is not None:
            judged.prediction["response"] = get_plugin(task_type).validate_response(judged.prediction["response"], params, field="prediction")
        return judged
    except ChatError as exc:
        return Judged(error=str(exc))
    except InvalidRequest as exc:
        return Judged(error=f"the judge's verdict is not a valid answer: {exc}")


def judge_batch(model: ProjectModel, tasks: list[tuple[str, dict[str, Any]]]) -> BatchResult:
    """Judge (type, params) pairs, `model.concurrency` calls at a time, results in order."""
    with ThreadPoolExecutor(max_workers=max(1, model.concurrency or 1), thread_name_prefix="assay-judge") as pool:
        return BatchResult(list(pool.map(lambda t: judge_task(model, *t), tasks)))
