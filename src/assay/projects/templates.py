"""Project templates for the common jobs: the task type and the params a project of that
kind needs, built from the labels (or criteria) the lead types, plus starting
instructions. Pure data: the project page and `POST /api/projects` use them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "criterion"


@dataclass(frozen=True)
class Template:
    id: str
    title: str
    type: str
    description: str
    labels: tuple[str, ...]  # the suggested labels (or criteria)
    labels_title: str
    instruction: str
    params: Callable[[list[str]], dict[str, Any]]

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "type": self.type, "description": self.description, "labels": list(self.labels),
                "labels_title": self.labels_title, "instruction": self.instruction, "params_example": self.params(list(self.labels))}


TEMPLATES: dict[str, Template] = {t.id: t for t in [
    Template("sentiment", "Sentiment", "categorization", "One label per text: how does the writer feel?",
             ("positive", "negative", "neutral"), "Labels", "Read the text and pick the sentiment it expresses.",
             lambda labels: {"categories": labels, "attachment_type": "text"}),
    Template("intent", "Intent", "categorization", "What does the user want? One intent per message.",
             ("question", "complaint", "purchase", "cancel", "other"), "Intents", "Pick what the user wants to do.",
             lambda labels: {"categories": labels, "attachment_type": "text"}),
    Template("ner", "Named entities", "namedentityrecognition", "Highlight spans of text and label them.",
             ("person", "organization", "location"), "Entity labels", "Select every mention and give it its label.",
             lambda labels: {"labels": [{"name": label} for label in labels]}),
    Template("boxes", "Bounding boxes", "imageannotation", "Draw a box around every object.",
             ("car", "person", "bicycle"), "Object labels", "Draw a tight box around each object and label it.",
             lambda labels: {"geometries": {"box": {"objects_to_annotate": labels}}}),
    Template("segmentation", "Segmentation", "segmentannotation", "Paint every pixel with its class.",
             ("road", "sky", "building", "vegetation"), "Classes", "Paint each region with its class.",
             lambda labels: {"labels": labels, "allow_unlabeled": True}),
    Template("pairwise", "Pairwise preference", "chat", "Which of two model responses is better, and by how much?",
             ("slightly better", "better", "much better"), "Strength levels", "Read the conversation and both responses; pick the better one.",
             lambda labels: {"evaluation": "pairwise", "strength_levels": labels}),
    Template("rubric", "Rubric evaluation", "chat", "Score each response on each criterion.",
             ("accuracy", "helpfulness", "clarity"), "Criteria", "Score each response from 1 to 5 on every criterion.",
             lambda labels: {"evaluation": "rubric", "rubric": [{"id": _slug(label), "title": label, "scale": 5} for label in labels]}),
]}
