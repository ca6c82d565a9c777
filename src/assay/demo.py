"""The demo organization's projects and tasks. Text is written for this demo, the video
frames are drawn here, and the photos are eight raccoon pictures shipped in
`demo_data/raccoon/` with their hand-drawn boxes: nothing needs the network."""

from __future__ import annotations

import csv
import io
import math
import secrets
from pathlib import Path

from PIL import Image, ImageDraw

from assay.auth.principals import Principal
from assay.db import get_db
from assay.demo_history import simulate_week
from assay.errors import Conflict
from assay.files import service as files
from assay.projects import service as projects
from assay.tasks.service import create as tasks

RACCOONS = Path(__file__).resolve().parent / "demo_data" / "raccoon"
RACCOON_PROJECT = "Demo: raccoons (boxes)"
MASK_PROJECT = "Demo: raccoon masks (segmentation)"
VIDEO_PROJECT = "Demo: rolling ball (video)"
RACCOON_GOLD = 3  # the first photos' true boxes become evaluation (gold) items

REVIEWS = [
    "The acting was wooden and the plot went nowhere.",
    "A warm, funny film that earns every one of its tears.",
    "I checked my watch four times in the first hour.",
    "Gorgeous photography and a score that lingers for days.",
    "The sequel repeats every joke of the original, only louder.",
    "Smart, tense and never once predictable.",
    "Two hours I will not get back.",
    "The lead gives the performance of her career.",
    "A muddled script sinks a promising idea.",
    "Charming from the first frame to the last.",
    "The dialogue sounds like it was written by a committee.",
    "A rare comedy that is kind to all its characters.",
    "Visually loud, emotionally empty.",
    "I laughed, I cried, I bought the soundtrack.",
    "The twist is obvious from the opening scene.",
    "An honest, quietly devastating story about a family.",
    "Too long by at least forty minutes.",
    "Every scene crackles with energy.",
    "The villain is more confusing than menacing.",
    "A delight for children and their parents alike.",
]

NEWS = [
    "Maria Lopez joined Northwind Bank in Madrid as chief economist on Monday.",
    "The Ocean Cleanup Foundation opened a new office in Rotterdam.",
    "Kenji Sato will present the Aurora satellite at the Tokyo space fair.",
    "Acme Robotics hired Priya Nair to lead its lab in Bangalore.",
    "Lake Constance ferries resume service between Konstanz and Meersburg.",
    "Greta Olsen won the Oslo marathon for the third year running.",
    "Blue Harbor Energy signed a wind power deal with the city of Aberdeen.",
    "Dr. Amara Okafor published a study on malaria vaccines in Lagos.",
    "The Prado Museum lent two paintings to the Louvre in Paris.",
    "Tomasz Nowak founded Vistula Software in Krakow in 2019.",
]

TICKETS = [
    "My invoice for March was charged twice, please refund one payment.",
    "The app crashes every time I open the settings page on Android.",
    "How do I export my data as CSV?",
    "I was locked out after resetting my password; the reset link has expired.",
    "Please add dark mode, my eyes hurt at night.",
    "Your delivery arrived broken and the box was wet.",
    "Can I change the e-mail address on my account?",
    "The search results do not include last week's documents.",
]

PROMPTS = [
    ("Explain what a hash table is in one paragraph.",
     "A hash table stores key-value pairs in an array, using a hash function to turn each key into an index so lookups take constant time on average.",
     "A hash table is a kind of table used in databases to store hashes of passwords."),
    ("Give a haiku about autumn.",
     "Maple leaves drifting / the river carries red light / toward the quiet sea",
     "Autumn is a season that comes after summer and before winter every year."),
    ("What is the capital of Australia?",
     "Sydney is the capital of Australia.",
     "Canberra is the capital of Australia."),
]


def _upload(principal: Principal, name: str, data: bytes, mime: str, project: str) -> str:
    file_id, path, size, sha = files.store_stream(principal, io.BytesIO(data))
    with get_db().write() as session:
        row = files.record_file(session, principal, file_id, path, size, sha, name, mime, {"project_name": project})
        return files.file_json(row, principal.org_public_id)["attachment_url"]


def _ball_frames(count: int = 24, width: int = 192, height: int = 128) -> list[bytes]:
    """A ball rolling left to right and bouncing once: the video demo's frames (PNG)."""
    frames = []
    for k in range(count):
        img = Image.new("RGB", (width, height), (214, 226, 238))
        draw = ImageDraw.Draw(img)
        draw.rectangle([0, height - 18, width, height], fill=(96, 140, 84))
        x = 12 + k * (width - 40) / (count - 1)
        y = height - 34 - abs(math.sin(math.pi * k / (count / 2))) * 60
        draw.ellipse([x, y, x + 16, y + 16], fill=(200, 60, 40))
        out = io.BytesIO()
        img.save(out, "PNG")
        frames.append(out.getvalue())
    return frames


def _raccoon_boxes() -> list[tuple[str, dict]]:
    """(file name, the true box as an imageannotation annotation) for each shipped photo."""
    with (RACCOONS / "boxes.csv").open() as f:
        rows = list(csv.DictReader(f))
    out = []
    for i, row in enumerate(rows):
        x0, y0, x1, y1 = (int(row[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
        out.append((Path(row["image"]).name, {"uuid": f"raccoon-{i + 1}", "type": "box", "label": "raccoon",
                                              "left": x0, "top": y0, "width": x1 - x0, "height": y1 - y0}))
    return out


def _vision_demo(principal: Principal, counts: dict[str, int]) -> None:
    """Raccoon boxes (a few as gold, one with a pre-label), raccoon masks, a ball to track."""
    db = get_db()
    geometries = {"box": {"objects_to_annotate": ["raccoon"], "min_width": 8, "min_height": 8}}
    photos = [(name, box, _upload(principal, name, (RACCOONS / name).read_bytes(), "image/jpeg", RACCOON_PROJECT)) for name, box in _raccoon_boxes()]
    frames = [_upload(principal, f"ball-{k}.png", data, "image/png", VIDEO_PROJECT) for k, data in enumerate(_ball_frames())]
    with db.write() as session:
        for i, (_, box, url) in enumerate(photos):
            body = {"project": RACCOON_PROJECT, "attachment": url, "attachment_type": "image", "geometries": geometries}
            if i < RACCOON_GOLD:
                tasks.create_gold_task(session, principal, "imageannotation", {**body, "expected_response": {"annotations": [box]}}, "evaluation")
                continue
            if i == RACCOON_GOLD:  # a model's pre-label, a little off: accept it or fix it
                body["hypothesis"] = {"annotations": [{**box, "left": box["left"] + 6, "width": max(8, box["width"] - 10)}]}
            tasks.create_task(session, principal, "imageannotation", body)
        counts["imageannotation"] = len(photos) - RACCOON_GOLD
        for _, _, url in photos[-2:]:
            tasks.create_task(session, principal, "segmentannotation", {"project": MASK_PROJECT, "attachment": url, "labels": ["raccoon", "ground", "plants"]})
        counts["segmentannotation"] = 2
        tasks.create_task(session, principal, "videoannotation", {
            "project": VIDEO_PROJECT, "attachments": frames, "geometries": {"box": {"objects_to_annotate": ["ball"]}},
            "events_to_annotate": ["bounce"],
        })
        counts["videoannotation"] = 1


def create_demo(principal: Principal, password: str | None = None) -> dict[str, int]:
    """Create the demo projects and tasks in the principal's organization, and a week of
    simulated history (demo_history.py) whose labelers sign in with `password`."""
    db = get_db()
    counts: dict[str, int] = {}
    specs = [
        ("Demo: movie review sentiment", "categorization", {"instruction": "Is this movie review positive or negative?", "categories": ["positive", "negative"], "attachment_type": "text", "review_fraction": 0.25}),
        ("Demo: news entities", "namedentityrecognition", {"instruction": "Mark every person, organization and place.", "labels": [{"name": "PERSON"}, {"name": "ORG"}, {"name": "LOC"}]}),
        ("Demo: support ticket triage", "textcollection", {"instruction": "Route the ticket and summarise it."}),
        (RACCOON_PROJECT, "imageannotation", {"instruction": "Draw a tight box around every raccoon (Q draws boxes, Enter submits)."}),
        (MASK_PROJECT, "segmentannotation", {"instruction": "Paint the raccoon, the ground and the plants. G: drag a box and GrabCut finds the raccoon."}),
        (VIDEO_PROJECT, "videoannotation", {"instruction": "Track the ball: box it on the first frame, then press T to follow it; fix frames where it drifts."}),
        ("Demo: answer preference", "chat", {"instruction": "Which answer would you rather get? Correctness first, then clarity.", "evaluation": "pairwise"}),
    ]
    with db.write() as session:
        for name, task_type, params in specs:
            try:
                projects.create_project(session, principal, {"name": name, "type": task_type, "params": params})
            except Conflict:
                return {}
    with db.write() as session:
        for i, text in enumerate(REVIEWS):
            tasks.create_task(session, principal, "categorization", {"project": "Demo: movie review sentiment", "attachment": text, "metadata": {"demo": True, "row": i}})
        counts["categorization"] = len(REVIEWS)
        for text in NEWS:
            tasks.create_task(session, principal, "namedentityrecognition", {"project": "Demo: news entities", "text": text})
        counts["namedentityrecognition"] = len(NEWS)
        for text in TICKETS:
            tasks.create_task(session, principal, "textcollection", {
                "project": "Demo: support ticket triage",
                "attachments": [{"type": "text", "content": text}],
                "fields": [
                    {"type": "category", "field_id": "team", "title": "Team", "required": True,
                     "choices": [{"label": "Billing", "value": "billing"}, {"label": "Technical", "value": "technical"}, {"label": "Account", "value": "account"}, {"label": "Other", "value": "other"}]},
                    {"type": "number", "field_id": "urgency", "title": "Urgency (1-5)", "min": 1, "max": 5, "required": True},
                    {"type": "text", "field_id": "summary", "title": "One-line summary", "max_characters": 200},
                ],
            })
        counts["textcollection"] = len(TICKETS)
        for prompt, a, b in PROMPTS:
            tasks.create_task(session, principal, "chat", {
                "project": "Demo: answer preference",
                "messages": [{"role": "user", "content": prompt}],
                "responses": [{"content": a}, {"content": b}],
            })
        counts["chat"] = len(PROMPTS)
    _vision_demo(principal, counts)
    history = simulate_week(principal, password or secrets.token_urlsafe(12))
    counts["simulated labels"] = history["labels"]
    return counts
