"""`multichat`: live chat with a model endpoint (Scale's MultiChat), and red-teaming.

The labeler writes the user turns in the workbench; the project's chat model (an `openai`
backend, docs/live-chat.md) answers each with `replies_per_turn` replies; the labeler picks
the best, may rate each reply (1..`rating_scale`) and edit the chosen one. The transcript is
the response; each turn's prompt and replies must be those the server stored when it
generated them (checked at submission), so a transcript is what the model really said.

Params: `messages` (optional opening conversation, e.g. a system prompt or context),
`replies_per_turn` (1-4, default 2), `min_turns` (default 1), `max_turns` (default 10),
`rating_scale` (2-10, default 5), and for red-teaming `red_team`:
`{"harm_category": "what to probe", "harm_categories": [...], "severity_levels": [...]}`.

Response: `{"turns": [{"prompt", "replies": [{"id", "content", "model"}], "chosen", "ratings"?:
{reply id: n}, "edited"?}], "harm"?: {"category", "severity", "notes"?}}` (`harm` required for a
red-team task). Red-team tasks carry flagged content (`flags_content`): the workbench warns
before showing them, and a well-being budget counts them.
"""

from __future__ import annotations

import random
from typing import Any

from pydantic import Field, StrictInt, ValidationInfo, field_validator, model_validator

from assay.tasktypes.base import ParamsModel, ResponseModel, TaskTypePlugin
from assay.tasktypes.chat import Message
from assay.tasktypes.fields import context_params, fail
from assay.tasktypes.registry import register

DEFAULT_HARM_CATEGORIES = ["violence", "self-harm", "hate", "harassment", "sexual content", "weapons", "illegal activity",
                           "privacy", "misinformation", "other"]
DEFAULT_SEVERITIES = ["none", "low", "medium", "high", "critical"]
MAX_PROMPT = 20_000


class RedTeam(ParamsModel):
    harm_category: str = Field(min_length=1, max_length=200)
    harm_categories: list[str] = Field(default_factory=lambda: list(DEFAULT_HARM_CATEGORIES), min_length=1, max_length=50)
    severity_levels: list[str] = Field(default_factory=lambda: list(DEFAULT_SEVERITIES), min_length=2, max_length=10)

    @field_validator("harm_categories", "severity_levels")
    @classmethod
    def _distinct(cls, values: list[str]) -> list[str]:
        if any(not v.strip() for v in values) or len(set(values)) != len(values):
            raise ValueError("must be distinct non-blank strings")
        return values


class MultichatParams(ParamsModel):
    messages: list[Message] = Field(default_factory=list, max_length=100)
    replies_per_turn: StrictInt = Field(default=2, ge=1, le=4)
    min_turns: StrictInt = Field(default=1, ge=1, le=50)
    max_turns: StrictInt = Field(default=10, ge=1, le=50)
    rating_scale: StrictInt = Field(default=5, ge=2, le=10)
    red_team: RedTeam | None = None

    @model_validator(mode="after")
    def _check(self) -> "MultichatParams":
        if self.max_turns < self.min_turns:
            fail(("max_turns",), f"must be at least min_turns ({self.min_turns})", self.max_turns)
        return self


class Reply(ResponseModel):
    id: str = Field(min_length=1)
    content: str
    model: str | None = None


class Turn(ResponseModel):
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT)
    replies: list[Reply] = Field(min_length=1)
    chosen: str
    ratings: dict[str, StrictInt] | None = None
    edited: str | None = None


class Harm(ResponseModel):
    category: str
    severity: str
    notes: str | None = None


class MultichatResponse(ResponseModel):
    turns: list[Turn]
    harm: Harm | None = None

    @model_validator(mode="after")
    def _against_params(self, info: ValidationInfo) -> "MultichatResponse":
        params = context_params(info)
        least, most = params.get("min_turns", 1), params.get("max_turns", 10)
        if not least <= len(self.turns) <= most:
            fail(("turns",), f"must have {least} to {most} turns, has {len(self.turns)}")
        scale, per_turn = params.get("rating_scale", 5), params.get("replies_per_turn", 2)
        for i, turn in enumerate(self.turns):
            ids = [r.id for r in turn.replies]
            if len(ids) > per_turn or len(set(ids)) != len(ids):
                fail(("turns", i, "replies"), f"at most {per_turn} replies with distinct ids")
            if turn.chosen not in ids:
                fail(("turns", i, "chosen"), f"{turn.chosen!r} is not one of this turn's replies ({', '.join(map(repr, ids))})", turn.chosen)
            for reply_id, score in (turn.ratings or {}).items():
                if reply_id not in ids:
                    fail(("turns", i, "ratings", reply_id), "not a reply of this turn")
                if not 1 <= score <= scale:
                    fail(("turns", i, "ratings", reply_id), f"must be between 1 and {scale}", score)
            if turn.edited is not None and not turn.edited.strip():
                fail(("turns", i, "edited"), "must not be blank (leave it out to keep the reply)", turn.edited)
        self._check_harm(params.get("red_team"))
        return self

    def _check_harm(self, red_team: dict[str, Any] | None) -> None:
        if not red_team:
            if self.harm is not None:
                fail(("harm",), "only a red-team task rates harm")
            return
        if self.harm is None:
            fail(("harm",), "required for a red-team task: the harm category and severity of what the model said")
        categories = red_team.get("harm_categories") or DEFAULT_HARM_CATEGORIES
        levels = red_team.get("severity_levels") or DEFAULT_SEVERITIES
        if self.harm.category not in categories:
            fail(("harm", "category"), f"{self.harm.category!r} is not one of {', '.join(map(repr, categories))}", self.harm.category)
        if self.harm.severity not in levels:
            fail(("harm", "severity"), f"{self.harm.severity!r} is not one of {', '.join(map(repr, levels))}", self.harm.severity)


@register
class Multichat(TaskTypePlugin):
    name = "multichat"
    title = "Live chat"
    Params = MultichatParams
    Response = MultichatResponse

    def flags_content(self, params: dict[str, Any]) -> bool:
        """Red-team tasks show harmful content: flagged for the labeler's well-being."""
        return bool(params.get("red_team"))

    def preference_pairs(self, params: dict[str, Any], response: dict[str, Any]) -> list[dict[str, Any]]:
        return preference_pairs(params, response)

    def synthetic_response(self, params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        turns = []
        for t in range(params.get("min_turns", 1)):
            replies = [{"id": f"t{t}r{k}", "content": f"Synthetic reply {k + 1}.", "model": "synthetic"}
                       for k in range(params.get("replies_per_turn", 2))]
            turns.append({"prompt": f"Synthetic prompt {t + 1}.", "replies": replies, "chosen": rng.choice(replies)["id"]})
        answer: dict[str, Any] = {"turns": turns}
        red_team = params.get("red_team")
        if red_team:
            answer["harm"] = {"category": red_team.get("harm_category") if red_team.get("harm_category") in (red_team.get("harm_categories") or [])
                              else (red_team.get("harm_categories") or DEFAULT_HARM_CATEGORIES)[0],
                              "severity": (red_team.get("severity_levels") or DEFAULT_SEVERITIES)[0]}
        return answer


def preference_pairs(params: dict[str, Any], response: dict[str, Any]) -> list[dict[str, Any]]:
    """The transcript as preference data: for each turn, the conversation so far as the
    prompt, the chosen (or edited) reply as `chosen` and every other reply as `rejected`."""
    conversation = [{"role": m.get("role"), "content": m.get("content")} for m in params.get("messages") or []]
    pairs = []
    for turn in response.get("turns") or []:
        conversation.append({"role": "user", "content": turn["prompt"]})
        by_id = {r["id"]: r for r in turn["replies"]}
        chosen = turn.get("edited") or by_id[turn["chosen"]]["content"]
        for r in turn["replies"]:
            if r["id"] != turn["chosen"]:
                pairs.append({"prompt": [dict(m) for m in conversation], "chosen": chosen, "rejected": r["content"],
                              "chosen_model": by_id[turn["chosen"]].get("model"), "rejected_model": r.get("model")})
        conversation.append({"role": "assistant", "content": chosen})
    return pairs
