"""Every export format by name (one module per format; see base.py for the interface)."""

from __future__ import annotations

from assay.exports.formats import coco, jsonl, masks, parquet, preference, tabular, text, video, voc, yolo
from assay.exports.formats.base import Format

_ALL: list[Format] = [
    jsonl.FORMAT, tabular.CSV, parquet.FORMAT,
    coco.FORMAT, yolo.DETECT, yolo.SEGMENT, voc.FORMAT, masks.FORMAT, video.MOT, video.CVAT,
    text.CONLL, text.DOCBIN, text.HUGGINGFACE,
    preference.DPO, preference.REWARD, preference.RANKING, preference.RUBRIC,
]
FORMATS: dict[str, Format] = {f.name: f for f in _ALL}
