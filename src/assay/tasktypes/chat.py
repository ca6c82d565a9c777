"""`chat`: judge model outputs for a conversation (generative-AI evaluation).

Params: `messages` (the conversation, Markdown), `responses` (model outputs to judge, ids
default to "A", "B", …) and `evaluation`, one of:

* `pairwise`: exactly 2 responses; the answer picks the better one (or a tie when
  `allow_ties`) and how much better (`strength_levels`);
  `{"preference": {"winner": "A", "strength": "better"}, "justification"?: "…"}`;
* `ranking`: 2 to 10 responses, all ranked best first: `{"ranking": ["B", "A", "C"]}`;
* `rubric`: each response scored on each `rubric` criterion (1..scale), with a
  justification where the criterion asks for one:
  `{"scores": {"A": {"helpfulness": {"score": 4, "justification"?: "…"}}}}`;
* `ideal_response`: the labeler writes the response the model should have given (at least
  `min_characters` non-blank characters), optionally starting from one of the responses:
  `{"ideal_response": "…", "based_on"?: "A"}`.

The labeling tool gets `content_html` (rendered, escaped Markdown) for every message and
response, and `description_html` for rubric criteria.
"""

from __future__ import annotations

import copy
import random
import string
from typing import Any, Literal

from pydantic import Field, StrictBool, StrictInt, ValidationInfo, field_validator, model_validator

from assay import markdown
from assay.tasktypes.base import Aggregate, ParamsModel, ResponseModel, TaskTypePlugin
from assay.tasktypes.fields import context_params, fail
from assay.tasktypes.registry import register

EVALUATIONS = ("pairwise", "ranking", "rubric", "ideal_response")
DEFAULT_STRENGTHS = ["slightly better", "better", "much better"]
MAX_RESPONSES = 26
MAX_RANKED = 10
TIE = "tie"


def _a(mode: str) -> str:
    return f"{'an' if mode[0] in 'aeiou' else 'a'} {mode}"


def default_id(index: int) -> str:
    return string.ascii_uppercase[index] if index < 26 else f"R{index + 1}"


class Message(ParamsModel):
    role: Literal["system", "user", "assistant"]
    content: str


class ModelResponse(ParamsModel):
    id: str | None = None
    model: str | None = None
    content: str

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must be a non-blank string")
        return value


class Criterion(ParamsModel):
    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str | None = None
    scale: StrictInt = Field(default=5, ge=2, le=10)
    justification: Literal["none", "optional", "required"] = "optional"

    @field_validator("id", "title")
    @classmethod
    def _non_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be a non-blank string")
        return value


class ChatParams(ParamsModel):
    messages: list[Message] = Field(min_length=1)
    responses: list[ModelResponse] = Field(default_factory=list, max_length=MAX_RESPONSES)
    evaluation: Literal["pairwise", "ranking", "rubric", "ideal_response"]
    allow_ties: StrictBool | None = None
    strength_levels: list[str] | None = Field(default=None, max_length=10)
    rubric: list[Criterion] | None = None
    min_characters: StrictInt | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _check(self) -> "ChatParams":
        seen: set[str] = set()
        for i, item in enumerate(self.responses):
            if item.id is None:
                item.id = default_id(i)
            if item.id in seen:
                fail(("responses", i, "id"), f"duplicate response id {item.id!r}", item.id)
            seen.add(item.id)
        n = len(self.responses)
        mode = self.evaluation
        if mode == "pairwise":
            if n != 2:
                fail(("responses",), f"pairwise evaluation needs exactly 2 responses, got {n}")
            for i, item in enumerate(self.responses):
                if item.id == TIE:
                    fail(("responses", i, "id"), f"{TIE!r} is reserved in pairwise evaluation (it means a tie)", item.id)
            if self.allow_ties is None:
                self.allow_ties = True
            if self.strength_levels is None:
                self.strength_levels = list(DEFAULT_STRENGTHS)
        elif mode == "ranking":
            if not 2 <= n <= MAX_RANKED:
                fail(("responses",), f"ranking evaluation needs 2 to {MAX_RANKED} responses, got {n}")
        elif mode == "rubric":
            if n < 1:
                fail(("responses",), "rubric evaluation needs at least 1 response")
            if not self.rubric:
                fail(("rubric",), "rubric evaluation needs at least one criterion")
        if self.strength_levels is not None:
            levels = self.strength_levels
            for i, level in enumerate(levels):
                if not level.strip():
                    fail(("strength_levels", i), "must be a non-blank string", level)
                if level in levels[:i]:
                    fail(("strength_levels", i), f"duplicate strength level {level!r}", level)
        ids: set[str] = set()
        for i, criterion in enumerate(self.rubric or []):
            if criterion.id in ids:
                fail(("rubric", i, "id"), f"duplicate criterion id {criterion.id!r}", criterion.id)
            ids.add(criterion.id)
        return self


class Preference(ResponseModel):
    winner: str
    strength: str | None = None


class Score(ResponseModel):
    score: StrictInt
    justification: str | None = None


class ChatResponse(ResponseModel):
    preference: Preference | None = None
    ranking: list[str] | None = None
    scores: dict[str, dict[str, Score]] | None = None
    ideal_response: str | None = None
    based_on: str | None = None
    justification: str | None = None

    @model_validator(mode="after")
    def _against_params(self, info: ValidationInfo) -> "ChatResponse":
        params = context_params(info)
        mode = params.get("evaluation")
        if mode not in EVALUATIONS:
            return self
        ids = [r.get("id") for r in params.get("responses") or [] if isinstance(r, dict)]
        answer_keys = {"pairwise": "preference", "ranking": "ranking", "rubric": "scores", "ideal_response": "ideal_response"}
        for other, key in answer_keys.items():
            if other != mode and getattr(self, key) is not None:
                fail((key,), f"not part of {_a(mode)} evaluation (this task asks for {answer_keys[mode]!r})")
        if self.based_on is not None and mode != "ideal_response":
            fail(("based_on",), f"not part of {_a(mode)} evaluation")
        if getattr(self, answer_keys[mode]) is None:
            fail((answer_keys[mode],), f"required for {mode} evaluation")
        getattr(self, f"_check_{mode}")(params, ids)
        return self

    def _check_pairwise(self, params: dict[str, Any], ids: list[str]) -> None:
        pref = self.preference
        levels = params.get("strength_levels")
        levels = DEFAULT_STRENGTHS if levels is None else levels
        if pref.winner == TIE:
            if params.get("allow_ties") is False:
                fail(("preference", "winner"), "this task does not allow ties; pick " + " or ".join(map(repr, ids)), pref.winner)
            if pref.strength is not None:
                fail(("preference", "strength"), "a tie has no strength", pref.strength)
            return
        if pref.winner not in ids:
            choices = ids + ([TIE] if params.get("allow_ties") is not False else [])
            fail(("preference", "winner"), f"{pref.winner!r} is not one of {', '.join(map(repr, choices))}", pref.winner)
        if not levels:
            if pref.strength is not None:
                fail(("preference", "strength"), "this task asks for no strength", pref.strength)
        elif pref.strength is None:
            fail(("preference", "strength"), f"required; one of {', '.join(map(repr, levels))}")
        elif pref.strength not in levels:
            fail(("preference", "strength"), f"{pref.strength!r} is not one of {', '.join(map(repr, levels))}", pref.strength)

    def _check_ranking(self, params: dict[str, Any], ids: list[str]) -> None:
        ranking = self.ranking
        for i, item in enumerate(ranking):
            if item not in ids:
                fail(("ranking", i), f"{item!r} is not a response id of this task ({', '.join(map(repr, ids))})", item)
            if item in ranking[:i]:
                fail(("ranking", i), f"{item!r} is ranked more than once", item)
        missing = [i for i in ids if i not in ranking]
        if missing:
            fail(("ranking",), f"must rank every response once, best first; missing {', '.join(map(repr, missing))}")

    def _check_rubric(self, params: dict[str, Any], ids: list[str]) -> None:
        criteria = [c for c in params.get("rubric") or [] if isinstance(c, dict)]
        for response_id, scored in self.scores.items():
            if response_id not in ids:
                fail(("scores", response_id), f"not a response id of this task ({', '.join(map(repr, ids))})")
            known = {c.get("id") for c in criteria}
            for criterion_id in scored:
                if criterion_id not in known:
                    fail(("scores", response_id, criterion_id), f"not a criterion id of this task ({', '.join(map(repr, known))})")
        for response_id in ids:
            scored = self.scores.get(response_id)
            if scored is None:
                fail(("scores", response_id), "every response must be scored; this one is missing")
            for criterion in criteria:
                cid = criterion.get("id")
                here = ("scores", response_id, cid)
                entry = scored.get(cid)
                if entry is None:
                    fail(here, f"every criterion must be scored; {criterion.get('title') or cid!r} is missing")
                scale = criterion.get("scale") or 5
                if not 1 <= entry.score <= scale:
                    fail(here + ("score",), f"must be between 1 and {scale}", entry.score)
                rule = criterion.get("justification") or "optional"
                if rule == "required" and (entry.justification is None or not entry.justification.strip()):
                    fail(here + ("justification",), "required for this criterion", entry.justification)
                if rule == "none" and entry.justification is not None:
                    fail(here + ("justification",), "this criterion takes no justification", entry.justification)

    def _check_ideal_response(self, params: dict[str, Any], ids: list[str]) -> None:
        text = self.ideal_response.strip()
        if not text:
            fail(("ideal_response",), "must not be blank", self.ideal_response)
        least = params.get("min_characters")
        if least and len(text) < least:
            fail(("ideal_response",), f"must be at least {least} characters (has {len(text)})", self.ideal_response)
        if self.based_on is not None and self.based_on not in ids:
            fail(("based_on",), f"{self.based_on!r} is not a response id of this task", self.based_on)


_WORDS = ["the", "answer", "explains", "clearly", "why", "this", "works", "and", "gives", "an", "example", "step", "by"]


def _text(rng: random.Random, least: int) -> str:
    words = [rng.choice(_WORDS).capitalize()]
    while len(" ".join(words)) < max(least, 40):
        words.append(rng.choice(_WORDS))
    return " ".join(words) + "."


@register
class Chat(TaskTypePlugin):
    name = "chat"
    title = "Chat evaluation"
    Params = ChatParams
    Response = ChatResponse

    def synthetic_response(self, params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        ids = [r["id"] for r in params.get("responses") or []]
        mode = params["evaluation"]
        if mode == "pairwise":
            choices = ids + ([TIE] if params.get("allow_ties", True) else [])
            winner = rng.choice(choices)
            levels = params.get("strength_levels")
            levels = DEFAULT_STRENGTHS if levels is None else levels
            preference: dict[str, Any] = {"winner": winner}
            if winner != TIE and levels:
                preference["strength"] = rng.choice(levels)
            return {"preference": preference}
        if mode == "ranking":
            return {"ranking": rng.sample(ids, len(ids))}
        if mode == "rubric":
            scores: dict[str, Any] = {}
            for response_id in ids:
                scores[response_id] = {}
                for criterion in params["rubric"]:
                    entry: dict[str, Any] = {"score": rng.randint(1, criterion.get("scale", 5))}
                    if criterion.get("justification", "optional") == "required":
                        entry["justification"] = _text(rng, 0)
                    scores[response_id][criterion["id"]] = entry
            return {"scores": scores}
        answer: dict[str, Any] = {"ideal_response": _text(rng, params.get("min_characters") or 0)}
        if ids and rng.random() < 0.5:
            answer["based_on"] = rng.choice(ids)
        return answer

    def judge_can_vote(self, params: dict[str, Any]) -> bool:
        """Pairwise judgements and rankings are consolidated by weighted Bradley-Terry, where
        a judge's verdict is one more weighted comparison."""
        return params.get("evaluation") in ("pairwise", "ranking")

    def preference_pairs(self, params: dict[str, Any], response: dict[str, Any]) -> list[dict[str, Any]]:
        """A pairwise answer with a winner: the winner is `chosen`, the other `rejected`."""
        winner = (response.get("preference") or {}).get("winner")
        by_id = {r.get("id"): r for r in params.get("responses") or [] if isinstance(r, dict)}
        if params.get("evaluation") != "pairwise" or winner not in by_id or len(by_id) != 2:
            return []
        loser = next(r for rid, r in by_id.items() if rid != winner)
        prompt = [{"role": m.get("role"), "content": m.get("content")} for m in params.get("messages") or [] if isinstance(m, dict)]
        return [{"prompt": prompt, "chosen": by_id[winner].get("content"), "rejected": loser.get("content"),
                 "chosen_model": by_id[winner].get("model"), "rejected_model": loser.get("model"),
                 "strength": (response.get("preference") or {}).get("strength")}]

    def workbench_params(self, params: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(super().workbench_params(params))
        for key in ("messages", "responses"):
            for item in out.get(key) or []:
                if isinstance(item, dict):
                    item["content_html"] = markdown.render(item.get("content") or "")
        for criterion in out.get("rubric") or []:
            if isinstance(criterion, dict) and criterion.get("description"):
                criterion["description_html"] = markdown.render(criterion["description"])
        return out

    def consensus_key(self, response: dict[str, Any], params: dict[str, Any]) -> Any:
        """The judgement, not the words around it: justifications do not make answers differ."""
        if "preference" in response:
            pref = response["preference"]
            return ("preference", pref.get("winner"), pref.get("strength"))
        if "ranking" in response:
            return ("ranking", tuple(response["ranking"]))
        if "scores" in response:
            return ("scores", tuple(sorted((rid, cid, s["score"]) for rid, crit in response["scores"].items() for cid, s in crit.items())))
        return super().consensus_key(response, params)

    def aggregate(self, responses: list[dict[str, Any]], weights: list[float], params: dict[str, Any]) -> Aggregate | None:
        """Rankings and pairwise judgements by Bradley-Terry (Davidson's model with ties),
        each judgement weighted by its labeler's skill; `details.scores` gives each
        response's score (log-strength, mean 0) and 95 % interval, best first. Ideal
        responses are free text: the one most similar to the others wins. Rubric scores
        are compared as whole judgements (None: the one-coin model decides)."""
        mode = params.get("evaluation")
        if mode == "ranking":
            return self._aggregate_ranking(responses, weights, params)
        if mode == "pairwise":
            return self._aggregate_pairwise(responses, weights, params)
        if mode != "ideal_response":
            return None
        from assay.quality.text import text_medoid  # noqa: PLC0415 - numpy loads on the first consolidation

        result = text_medoid([r["ideal_response"] for r in responses], weights)
        chosen = next(i for i, r in enumerate(responses) if r["ideal_response"] == result.answer)
        return Aggregate(responses[chosen], result.confidence, list(result.contributors), "text_medoid")

    def _agreeing(self, responses: list[dict[str, Any]], final: dict[str, Any], params: dict[str, Any]) -> list[int]:
        """The answers that are the same judgement as the consolidated one (consensus_key)."""
        key = self.consensus_key(final, params)
        return [i for i, r in enumerate(responses) if self.consensus_key(r, params) == key]

    def _aggregate_ranking(self, responses: list[dict[str, Any]], weights: list[float], params: dict[str, Any]) -> Aggregate:
        """Every ranking becomes its pairwise comparisons (each with the labeler's weight);
        the consolidated ranking orders the responses by their Bradley-Terry scores;
        confidence: the mean posterior probability that each response really beats the next."""
        from assay.quality.ranking import bradley_terry, ranking_to_comparisons  # noqa: PLC0415 - numpy/scipy load on the first consolidation

        ids = [r["id"] for r in params["responses"]]
        index = {rid: k for k, rid in enumerate(ids)}
        skill = list(weights) if any(w > 0 for w in weights) else [1.0] * len(weights)  # as the other aggregators
        comparisons, comparison_weights = ranking_to_comparisons([[index[rid] for rid in r["ranking"]] for r in responses], skill)
        result = bradley_terry(len(ids), comparisons, comparison_weights, ties=True)
        final = self.validate_response({"ranking": [ids[k] for k in result.ranking]}, params)
        return Aggregate(final, result.confidence, self._agreeing(responses, final, params), "bradley_terry",
                         {"scores": result.score_table(ids)})

    def _aggregate_pairwise(self, responses: list[dict[str, Any]], weights: list[float], params: dict[str, Any]) -> Aggregate:
        """The decision (first response, second, or a tie when the task allows ties) and its
        confidence come from the one-coin posterior over the judges' choices, each judge
        weighted by their accuracy estimate (as for any categorical answer, so adaptive
        overlap behaves the same). Its strength is the lower weighted median (in
        `strength_levels` order) of the strengths given by the judges who made that
        decision. `details` adds a two-item Davidson (Bradley-Terry with ties) fit: each
        response's score with its 95 % interval, and each decision's posterior probability
        under that model (`outcomes`)."""
        from assay.quality.numbers import weighted_median  # noqa: PLC0415 - numpy loads on the first consolidation
        from assay.quality.online import consensus  # noqa: PLC0415 - numpy loads on the first consolidation
        from assay.quality.preference import pairwise_preference  # noqa: PLC0415 - numpy/scipy load on the first consolidation

        first, second = (r["id"] for r in params["responses"])
        allow_ties = params.get("allow_ties") is not False
        code = {first: 1.0, second: 0.0, TIE: 0.5}
        winners = [r["preference"]["winner"] for r in responses]
        decided = consensus(winners, weights, 3 if allow_ties else 2)
        winner = winners[decided.winner]
        result = pairwise_preference([code[w] for w in winners], weights, ties=allow_ties)
        preference: dict[str, Any] = {"winner": winner}
        levels = params.get("strength_levels")
        levels = DEFAULT_STRENGTHS if levels is None else levels
        if winner != TIE and levels:
            chosen = [i for i, w in enumerate(winners) if w == winner and responses[i]["preference"].get("strength") in levels]
            if chosen:
                rank = weighted_median([levels.index(responses[i]["preference"]["strength"]) for i in chosen], [weights[i] for i in chosen])
                preference["strength"] = levels[int(rank.answer)]
            else:  # nobody made this decision (only possible when weights say nothing): the middle level
                preference["strength"] = levels[(len(levels) - 1) // 2]
        final = self.validate_response({"preference": preference}, params)
        outcomes = {first: result.probabilities[1.0], second: result.probabilities[0.0]}
        if allow_ties:
            outcomes[TIE] = result.probabilities[0.5]
        details = {"scores": result.model.score_table([first, second]), "outcomes": {k: round(v, 4) for k, v in outcomes.items()}}
        return Aggregate(final, decided.confidence, self._agreeing(responses, final, params), "one_coin", details)
