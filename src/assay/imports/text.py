"""Token-level named entities: CoNLL files (token … tag per line, a blank line between
sentences; WNUT-17's two columns or CoNLL-2003's four) and JSON rows with `tokens` and
`tags`. The text is the tokens joined by single spaces, the spans the BIO runs; the tokens
are kept in `metadata.tokens` so the CoNLL export gives them back as they were."""

from __future__ import annotations

from typing import Any

from assay.imports.rows import ImportError_, Parsed, Row, RowError


def from_tokens(tokens: list[str], tags: list[str]) -> tuple[str, list[dict[str, Any]], list[str]]:
    """(text, spans, tokens) of BIO-tagged tokens (IOB1 runs and stray I- tags start a span)."""
    if not isinstance(tokens, list) or not isinstance(tags, list) or len(tokens) != len(tags):
        raise ValueError("tokens and tags must be lists of the same length")
    text, spans, offsets = "", [], []
    for i, token in enumerate(tokens):
        start = len(text) + (1 if i else 0)
        text = f"{text} {token}" if i else str(token)
        offsets.append((start, len(text)))
    current: dict[str, Any] | None = None
    for (start, end), tag in zip(offsets, tags):
        kind, _, label = str(tag).partition("-")
        if kind == "I" and current is not None and current["label"] == label:
            current["end"] = end
            continue
        if current is not None:
            spans.append(current)
            current = None
        if kind in ("B", "I") and label:
            current = {"start": start, "end": end, "label": label}
    if current is not None:
        spans.append(current)
    for span in spans:
        span["text"] = text[span["start"]:span["end"]]
    return text, spans, [str(t) for t in tokens]


def parse_conll(data: bytes) -> Parsed:
    out = Parsed("conll")
    try:
        lines = data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise ImportError_(f"file: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    tokens: list[str] = []
    tags: list[str] = []
    start = 0
    for number, line in enumerate([*lines, ""], start=1):
        parts = line.split()
        if not parts or parts[0] == "-DOCSTART-":
            if tokens:
                text, spans, kept = from_tokens(tokens, tags)
                out.rows.append(Row(start, {"text": text, "metadata": {"tokens": kept}}, {"annotations": spans}))
            tokens, tags = [], []
            continue
        if len(parts) < 2:
            out.errors.append(RowError(number, "line", "needs a token and a tag"))
            continue
        if not tokens:
            start = number
        tokens.append(parts[0])
        tags.append(parts[-1])
    return out
