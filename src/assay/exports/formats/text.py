"""Text formats for named entities and text classification: CoNLL-2003 BIO, spaCy's
DocBin, and Hugging Face datasets (a dataset saved to disk and Parquet, with typed
ClassLabel / Sequence features). Tokens are the task's own when it came with them
(`metadata.tokens`, e.g. imported from CoNLL), else whitespace-separated words; an entity
covers every token it overlaps."""

from __future__ import annotations

import re
from typing import Any, Iterator

from assay.exports.formats.base import Context, Format, Pages, answer_of, confidence_of
from assay.exports.formats.vision import label_names

NER = ("namedentityrecognition",)
TEXT_TYPES = ("namedentityrecognition", "categorization")
_WORD = re.compile(r"\S+")


def text_of(row: dict[str, Any]) -> str:
    params = row.get("params") or {}
    value = params.get("text") if row.get("type") == "namedentityrecognition" else params.get("attachment")
    return value if isinstance(value, str) else ""


def tokens(row: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(token, start, end) of the task's text."""
    text = text_of(row)
    given = (row.get("metadata") or {}).get("tokens")
    if isinstance(given, list) and given and all(isinstance(t, str) for t in given):
        out, at = [], 0
        for token in given:
            start = text.find(token, at)
            if start < 0:
                break
            out.append((token, start, start + len(token)))
            at = start + len(token)
        else:
            return out
    return [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


def spans(row: dict[str, Any]) -> list[dict[str, Any]]:
    response = answer_of(row) or {}
    found = [a for a in response.get("annotations") or [] if isinstance(a, dict) and "start" in a and "end" in a]
    return sorted(found, key=lambda a: (a["start"], -a["end"]))


def bio(row: dict[str, Any]) -> list[tuple[str, str]]:
    """(token, tag) with IOB2 tags; where spans overlap the first one wins."""
    words = tokens(row)
    tags = ["O"] * len(words)
    for span in spans(row):
        inside = [i for i, (_, start, end) in enumerate(words) if start < span["end"] and end > span["start"] and tags[i] == "O"]
        for k, i in enumerate(inside):
            tags[i] = ("B-" if k == 0 else "I-") + span["label"]
    return [(w[0], t) for w, t in zip(words, tags)]


def entity_labels(context: Context, seen: list[str] = ()) -> list[str]:
    names = [n for n in _tree(context.project_params.get("labels"))]
    return names + [n for n in seen if n not in names]


def _tree(items: Any) -> list[str]:
    out = []
    for item in items or []:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            out.append(item["name"])
            out.extend(_tree(item.get("children")))
    return out


# ----------------------------------------------------------------------------- CoNLL

def conll(pages: Pages, context: Context) -> Iterator[bytes]:
    """CoNLL-2003 columns: token, POS and chunk placeholders, NER tag; a blank line
    between tasks, after a -DOCSTART- line."""
    yield b"-DOCSTART- -X- -X- O\n\n"
    for page in pages:
        out = []
        for row in page:
            pairs = bio(row)
            if pairs:
                out.append("".join(f"{token} -X- _ {tag}\n" for token, tag in pairs) + "\n")
        yield "".join(out).encode()


# ----------------------------------------------------------------------------- spaCy

def docbin(pages: Pages, context: Context) -> Iterator[bytes]:
    """One DocBin (`.spacy`): entities (`doc.ents`, overlaps dropped) and every span in
    `doc.spans["sc"]` for NER; `doc.cats` for text classification. Needs spaCy's blank
    pipeline only (its tokenizer is not used: the words are the task's tokens)."""
    import spacy  # noqa: PLC0415 - spaCy loads only for a DocBin export (optional dependency)
    from spacy.tokens import Doc, DocBin, Span  # noqa: PLC0415 - as above
    from spacy.util import filter_spans  # noqa: PLC0415 - as above

    vocab = spacy.blank("xx").vocab
    bin_ = DocBin(store_user_data=True)
    categories = label_names(context.project_params.get("categories"))
    for page in pages:
        for row in page:
            words = tokens(row)
            spaces = [bool(i + 1 < len(words) and words[i + 1][1] > end) for i, (_, _, end) in enumerate(words)]
            doc = Doc(vocab, words=[w[0] for w in words] or [""], spaces=spaces or [False])
            doc.user_data["task_id"] = row["task_id"]
            if context.task_type == "categorization":
                chosen = (answer_of(row) or {}).get("category")
                chosen = set(chosen if isinstance(chosen, list) else [chosen])
                doc.cats = {c: float(c in chosen) for c in categories or sorted(c for c in chosen if c)}
            else:
                found = []
                for span in spans(row):
                    inside = [i for i, (_, s, e) in enumerate(words) if s < span["end"] and e > span["start"]]
                    if inside:
                        found.append(Span(doc, inside[0], inside[-1] + 1, label=span["label"]))
                doc.spans["sc"] = found
                doc.ents = filter_spans(found)
            bin_.add(doc)
    yield bin_.to_bytes()


# ----------------------------------------------------------------------------- Hugging Face

def _hf_rows(pages: Pages, context: Context) -> tuple[dict[str, Any], dict[str, list]]:
    """The dataset's features (datasets' JSON form) and columns."""
    if context.task_type == "categorization":
        ids, texts, chosen, confidence = [], [], [], []
        multiple = bool(context.project_params.get("allow_multiple"))
        for page in pages:
            for row in page:
                category = (answer_of(row) or {}).get("category")
                ids.append(row["task_id"])
                texts.append(text_of(row))
                chosen.append(category if isinstance(category, list) else [category] if category else [])
                confidence.append(confidence_of(row))
                multiple = multiple or len(chosen[-1]) > 1
        names = label_names(context.project_params.get("categories"))
        names += sorted({c for cs in chosen for c in cs if c not in names})
        label = {"names": names, "_type": "ClassLabel"}
        values = [[names.index(c) for c in cs] for cs in chosen] if multiple else [names.index(cs[0]) if cs else None for cs in chosen]
        features = {"id": _value("string"), "text": _value("string"), "label": {"feature": label, "_type": "Sequence"} if multiple else label,
                    "confidence": _value("float64")}
        return features, {"id": ids, "text": texts, "label": values, "confidence": confidence}
    ids, words, tags, confidence = [], [], [], []
    for page in pages:
        for row in page:
            pairs = bio(row)
            ids.append(row["task_id"])
            words.append([p[0] for p in pairs])
            tags.append([p[1] for p in pairs])
            confidence.append(confidence_of(row))
    seen = sorted({t[2:] for ts in tags for t in ts if t != "O"})
    names = ["O"] + [f"{prefix}-{label}" for label in entity_labels(context, seen) for prefix in ("B", "I")]
    index = {name: i for i, name in enumerate(names)}
    features = {"id": _value("string"), "tokens": {"feature": _value("string"), "_type": "Sequence"},
                "ner_tags": {"feature": {"names": names, "_type": "ClassLabel"}, "_type": "Sequence"}, "confidence": _value("float64")}
    return features, {"id": ids, "tokens": words, "ner_tags": [[index[t] for t in ts] for ts in tags], "confidence": confidence}


def _value(dtype: str) -> dict[str, str]:
    return {"dtype": dtype, "_type": "Value"}


def huggingface(pages: Pages, context: Context) -> Iterator[tuple[str, bytes]]:
    """`dataset/` as `Dataset.save_to_disk` writes it (an Arrow stream, dataset_info.json,
    state.json: `datasets.load_from_disk("dataset")`) and `data.parquet` with the features
    in its schema metadata (`Dataset.from_parquet` / `load_dataset("parquet", …)`)."""
    import io  # noqa: PLC0415 - with pyarrow below

    import orjson  # noqa: PLC0415 - as above

    from assay.exports.formats.parquet import arrow  # noqa: PLC0415 - pyarrow loads only for this export

    pa, pq = arrow()
    features, columns = _hf_rows(pages, context)
    metadata = {b"huggingface": orjson.dumps({"info": {"features": features}})}
    table = pa.table(columns).replace_schema_metadata(metadata)
    stream = io.BytesIO()
    with pa.ipc.new_stream(stream, table.schema) as writer:
        writer.write_table(table)
    yield "dataset/data-00000-of-00001.arrow", stream.getvalue()
    info = {"citation": "", "description": f"assay export of project {context.project_name}", "features": features, "homepage": "",
            "license": ""}
    yield "dataset/dataset_info.json", orjson.dumps(info, option=orjson.OPT_INDENT_2)
    state = {"_data_files": [{"filename": "data-00000-of-00001.arrow"}], "_fingerprint": "assay", "_format_columns": None,
             "_format_kwargs": {}, "_format_type": None, "_output_all_columns": False, "_split": None}
    yield "dataset/state.json", orjson.dumps(state, option=orjson.OPT_INDENT_2)
    parquet = io.BytesIO()
    pq.write_table(table, parquet)
    yield "data.parquet", parquet.getvalue()


CONLL = Format("conll", "CoNLL-2003 BIO", "conll", "text/plain; charset=utf-8", NER, write=conll)
DOCBIN = Format("docbin", "spaCy DocBin", "spacy", "application/octet-stream", TEXT_TYPES, write=docbin, needs="spacy")
HUGGINGFACE = Format("huggingface", "Hugging Face dataset (save_to_disk and Parquet, zip)", "zip", "application/zip", TEXT_TYPES,
                     files=huggingface)
