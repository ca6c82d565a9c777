"""`audiotranscription`: write down what is said in an audio recording.

Params: `attachment` (the audio URL: http(s) or scaledata://), `attachment_type` (only
"audio"), optional `language` (free text, e.g. "en" or "German"), `speakers` (unique,
non-blank speaker labels), `segments` (default false: the answer must be split into timed
segments) and `verbatim` (default false: keep fillers, false starts and repetitions).

Response: `{"transcript": "<non-blank>"}`; when the task asks for `segments`, also
`"segments": [{"start": s, "end": s, "text": "...", "speaker"?: "<one of speakers>"}]`
(seconds from the start of the audio, 0 ≤ start < end, in order, not overlapping, text
non-blank). The transcript must then be the segment texts joined by single spaces;
whitespace is compared collapsed, so line breaks in the transcript are fine. A task that
does not ask for segments refuses them, and a `speaker` needs the task's `speakers`.
"""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import StrictBool, ValidationInfo, field_validator, model_validator

from assay.tasktypes.base import Aggregate, ParamsModel, ResponseModel, TaskTypePlugin
from assay.tasktypes.fields import (
    URL,
    NonEmptyStr,
    NonNegNumber,
    PosNumber,
    check_unique,
    context_params,
    fail,
)
from assay.tasktypes.registry import register


def collapse(text: str) -> str:
    """Runs of whitespace (spaces, tabs, line breaks) become one space; ends trimmed."""
    return " ".join(text.split())


class AudioTranscriptionParams(ParamsModel):
    attachment: URL
    attachment_type: Literal["audio"] = "audio"
    language: NonEmptyStr | None = None
    speakers: list[str] | None = None
    segments: StrictBool = False
    verbatim: StrictBool = False

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value

    @model_validator(mode="after")
    def _speakers(self) -> "AudioTranscriptionParams":
        for i, speaker in enumerate(self.speakers or []):
            if not speaker.strip():
                fail(("speakers", i), "speaker labels must not be blank", speaker)
        check_unique(self.speakers or [], ("speakers",), "speaker labels")
        return self


class Segment(ResponseModel):
    start: NonNegNumber
    end: PosNumber
    text: str
    speaker: str | None = None


class AudioTranscriptionResponse(ResponseModel):
    transcript: str
    segments: list[Segment] | None = None

    @field_validator("transcript")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @model_validator(mode="after")
    def _against_params(self, info: ValidationInfo) -> "AudioTranscriptionResponse":
        params = context_params(info)
        if not params:
            return self
        speakers = params.get("speakers") or []
        if not params.get("segments"):
            if self.segments is not None:
                fail(("segments",), "this task does not ask for segments (its `segments` param is false)")
            return self
        if not self.segments:
            fail(("segments",), "this task asks for timed segments: give at least one")
        previous_end = None
        for i, seg in enumerate(self.segments):
            here = ("segments", i)
            if not seg.end > seg.start:
                fail(here + ("end",), f"must be after start ({seg.start})", seg.end)
            if previous_end is not None and seg.start < previous_end:
                fail(here + ("start",), f"must not be before the end of segment {i - 1} ({previous_end}): "
                     "segments are in order and do not overlap", seg.start)
            previous_end = seg.end
            if not seg.text.strip():
                fail(here + ("text",), "must not be blank", seg.text)
            if seg.speaker is not None:
                if not speakers:
                    fail(here + ("speaker",), "this task lists no speakers", seg.speaker)
                if seg.speaker not in speakers:
                    fail(here + ("speaker",), f"{seg.speaker!r} is not one of the task's speakers", seg.speaker)
        joined = " ".join(collapse(seg.text) for seg in self.segments)
        if collapse(self.transcript) != joined:
            fail(("transcript",), "must be the segment texts joined by spaces (whitespace may differ)", self.transcript)
        return self


WORDS = ["hello", "and", "welcome", "to", "the", "weekly", "update", "we", "shipped", "a", "new", "release",
         "thanks", "everyone", "questions", "next", "item", "please", "okay", "so"]


@register
class AudioTranscription(TaskTypePlugin):
    name = "audiotranscription"
    title = "Audio transcription"
    Params = AudioTranscriptionParams
    Response = AudioTranscriptionResponse

    def synthetic_response(self, params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        def sentence() -> str:
            words = [rng.choice(WORDS) for _ in range(rng.randint(3, 9))]
            return " ".join(words).capitalize() + "."

        if not params.get("segments"):
            return {"transcript": " ".join(sentence() for _ in range(rng.randint(1, 3)))}
        speakers = params.get("speakers") or []
        segments: list[dict[str, Any]] = []
        t = round(rng.uniform(0, 1), 2)
        for _ in range(rng.randint(1, 4)):
            end = round(t + rng.uniform(0.5, 6), 2)
            seg: dict[str, Any] = {"start": t, "end": end, "text": sentence()}
            if speakers:
                seg["speaker"] = rng.choice(speakers)
            segments.append(seg)
            t = round(end + rng.uniform(0, 1), 2)
        return {"transcript": " ".join(s["text"] for s in segments), "segments": segments}


    def aggregate(self, responses: list[dict[str, Any]], weights: list[float], params: dict[str, Any]) -> Aggregate | None:
        """The transcript most similar to the others (assay.quality.text.text_medoid),
        with its own segments; labelers who gave that transcript agree."""
        from assay.quality.text import text_medoid  # noqa: PLC0415 - numpy loads on the first consolidation

        result = text_medoid([r["transcript"] for r in responses], weights)
        chosen = next(i for i, r in enumerate(responses) if r["transcript"] == result.answer)
        return Aggregate(responses[chosen], result.confidence, list(result.contributors), "text_medoid")
