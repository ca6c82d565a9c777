"""The demo organization's projects and tasks. All content is generated here (short
sentences written for this demo and procedurally drawn PNG images), so it ships with
the package and needs no network."""

from __future__ import annotations

import io
import random
import struct
import zlib

from assay.auth.principals import Principal
from assay.db import get_db
from assay.errors import Conflict
from assay.files import service as files
from assay.projects import service as projects
from assay.tasks.service import create as tasks

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


def _png(width: int, height: int, boxes: list[tuple[int, int, int, int, tuple[int, int, int]]], background=(225, 232, 240)) -> bytes:
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")
        for x in range(width):
            color = background
            for left, top, w, h, c in boxes:
                if left <= x < left + w and top <= y < top + h:
                    color = c
            row += bytes(color)
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def _upload_png(principal: Principal, name: str, data: bytes) -> str:
    file_id, path, size, sha = files.store_stream(principal, io.BytesIO(data))
    with get_db().write() as session:
        row = files.record_file(session, principal, file_id, path, size, sha, name, "image/png", {"project_name": "Demo: shapes (boxes)"})
        return files.file_json(row, principal.org_public_id)["attachment_url"]


def create_demo(principal: Principal) -> dict[str, int]:
    """Create the demo projects and tasks in the principal's organization."""
    db = get_db()
    rng = random.Random(7)
    counts: dict[str, int] = {}
    specs = [
        ("Demo: movie review sentiment", "categorization", {"instruction": "Is this movie review positive or negative?", "categories": ["positive", "negative"], "attachment_type": "text", "review_fraction": 0.25}),
        ("Demo: news entities", "namedentityrecognition", {"instruction": "Mark every person, organization and place.", "labels": [{"name": "PERSON"}, {"name": "ORG"}, {"name": "LOC"}]}),
        ("Demo: support ticket triage", "textcollection", {"instruction": "Route the ticket and summarise it."}),
        ("Demo: shapes (boxes)", "imageannotation", {"instruction": "Draw a box around every square and every bar."}),
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
    image_urls = []
    for i in range(6):
        boxes = []
        for _ in range(rng.randint(1, 3)):
            w, h = rng.randint(12, 30), rng.randint(12, 30)
            boxes.append((rng.randint(0, 96 - w), rng.randint(0, 72 - h), w, h, rng.choice([(200, 60, 60), (60, 120, 200), (60, 160, 90)])))
        image_urls.append(_upload_png(principal, f"shapes-{i}.png", _png(96, 72, boxes)))
    with db.write() as session:
        for url in image_urls:
            tasks.create_task(session, principal, "imageannotation", {
                "project": "Demo: shapes (boxes)",
                "attachment": url,
                "attachment_type": "image",
                "geometries": {"box": {"objects_to_annotate": ["square", "bar"], "min_width": 4, "min_height": 4}},
            })
    counts["imageannotation"] = len(image_urls)
    return counts
