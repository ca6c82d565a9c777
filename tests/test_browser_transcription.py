"""Transcription tools in a real browser: audio (our player keys while typing, speed,
timed segments with speakers) and documents (boxes drawn with the mouse on page images,
stored in image pixels). Media are generated here (a WAV tone, PNG pages), uploaded with
the official client and used as scaledata:// attachments."""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib

import pytest
from scaleapi.exceptions import ScaleInvalidRequest
from scaleapi.tasks import TaskType

from tests.browser import login, open_workbench, screenshot, wait_ready

pytestmark = pytest.mark.browser

AUDIO_SECONDS = 8
AUDIO = "document.querySelector('.tool audio')"


# ----------------------------------------------------------------------------- media

def tone_wav(seconds: float = AUDIO_SECONDS, rate: int = 8000) -> bytes:
    """A quiet 440 Hz tone, 16-bit mono PCM."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(int(seconds * rate))))
    return buf.getvalue()


def page_png(width: int, height: int, lines: list[tuple[int, int, int, int]]) -> bytes:
    """A white grayscale page with dark bars (lines of 'text') at (x, y, w, h); no Pillow."""
    white = b"\xff" * width
    rows = []
    for y in range(height):
        row = bytearray(white)
        for x0, y0, w, h in lines:
            if y0 <= y < y0 + h:
                for x in range(x0, min(width, x0 + w)):
                    # broken into 'words'
                    if (x - x0) % 90 < 70:
                        row[x] = 0x30
        rows.append(b"\x00" + bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def upload(web_client, tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    with path.open("rb") as f:
        uploaded = web_client.upload_file(f)
    assert uploaded.attachment_url.startswith("scaledata://")
    return uploaded.attachment_url


def create_audio_project(web_client, name: str) -> None:
    web_client.api.post_request("projects", body={"type": "audiotranscription", "name": name,
                                                  "params": {"instruction": "Transcribe what is said."}})


def create_audio_task(web_client, **body) -> str:
    return web_client.api.post_request("task/audiotranscription", body=body)["task_id"]


def audio_ready(page) -> None:
    page.wait_for_function(f"() => {AUDIO} && {AUDIO}.readyState >= 1 && {AUDIO}.duration > 0")


def audio_prop(page, prop: str):
    return page.evaluate(f"{AUDIO}.{prop}")


def seek(page, seconds: float) -> None:
    page.evaluate(f"t => {{ {AUDIO}.currentTime = t; }}", seconds)
    page.wait_for_function(f"t => Math.abs({AUDIO}.currentTime - t) < 0.01 && !{AUDIO}.seeking", arg=seconds)


def wait_empty(page) -> None:
    page.wait_for_function("() => document.getElementById('workbench').dataset.state === 'empty'")


# ----------------------------------------------------------------------------- audio

def test_audio_transcript_with_player_keys(web_server, web_client, web_org, new_page, uniq, tmp_path):
    name = f"calls {uniq}"
    create_audio_project(web_client, name)
    pid = web_org.project_id(name)
    url = upload(web_client, tmp_path, "tone.wav", tone_wav())
    task_id = create_audio_task(web_client, project=name, attachment=url, language="en", verbatim=True)
    annotator = web_org.person("annotator")
    web_org.add_member(pid, annotator)

    page = new_page()
    login(page, web_server, annotator)
    open_workbench(page, web_server, pid)
    audio_ready(page)
    assert abs(audio_prop(page, "duration") - AUDIO_SECONDS) < 0.1
    assert audio_prop(page, "controls") is False  # our own controls
    assert "Language: en" in page.locator(".at-facts").inner_text()
    assert "Verbatim" in page.locator(".at-facts").inner_text()
    box = page.locator("textarea.at-transcript")
    assert page.evaluate("document.activeElement.classList.contains('at-transcript')")

    # nothing typed: the shell shows the tool's message and nothing is stored
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => !document.getElementById('wb-error').hidden")
    assert page.locator("#wb-error").inner_text() == "Type the transcript first."
    assert web_org.task(task_id)["answers"] == []

    page.keyboard.type("Hello world.")
    # jump back 5 s while typing: from 4 s it stops at the start, from 6.5 s it lands at 1.5 s
    seek(page, 4)
    page.keyboard.press("Control+j")
    assert audio_prop(page, "currentTime") == pytest.approx(0, abs=0.05)
    seek(page, 6.5)
    page.keyboard.press("Control+j")
    assert audio_prop(page, "currentTime") == pytest.approx(1.5, abs=0.05)
    page.wait_for_function("() => document.querySelector('.at-time').textContent.startsWith('0:01.5')")
    # speed: faster twice, then slower past the bottom stops at 0.5×
    assert audio_prop(page, "playbackRate") == 1
    page.keyboard.press("Control+Period")
    page.keyboard.press("Control+Period")
    assert audio_prop(page, "playbackRate") == 1.5
    assert page.locator(".at-rate").inner_text() == "1.5×"
    for _ in range(6):
        page.keyboard.press("Control+Comma")
    assert audio_prop(page, "playbackRate") == 0.5
    for _ in range(8):
        page.keyboard.press("Control+Period")
    assert audio_prop(page, "playbackRate") == 2
    # play / pause (the key works in the text box too)
    assert audio_prop(page, "paused") is True
    page.keyboard.press("Control+k")
    page.wait_for_function(f"() => !{AUDIO}.paused || document.querySelector('.at-player-hint').textContent !== ''")
    if not audio_prop(page, "paused"):
        page.wait_for_function("() => document.querySelector('button.at-play').textContent.includes('Pause')")
        page.keyboard.press("Control+k")
        page.wait_for_function(f"() => {AUDIO}.paused")
        page.wait_for_function("() => document.querySelector('button.at-play').textContent.includes('Play')")
    else:  # a browser without an audio device may refuse to play; the tool says so
        assert page.locator(".at-player-hint").inner_text().startswith("Cannot play")
    # none of the combos typed into the transcript
    assert box.input_value() == "Hello world."

    # undo: a burst of typing is one step
    page.keyboard.press("Escape")
    box.focus()
    page.keyboard.press("End")
    page.keyboard.type(" Wrong words.")
    page.keyboard.press("Escape")
    assert box.input_value() == "Hello world. Wrong words."
    page.keyboard.press("Control+z")
    assert box.input_value() == "Hello world."

    # the keys are listed in the ? help
    page.keyboard.press("?")
    help_text = page.locator("#wb-help-keys").inner_text()
    assert "Jump back 5 seconds" in help_text and "Ctrl+J" in help_text and "Ctrl+," in help_text
    page.keyboard.press("Escape")
    box.focus()
    page.keyboard.press("Control+Enter")
    wait_empty(page)
    assert web_client.get_task(task_id).response == {"transcript": "Hello world."}
    answers = web_org.task(task_id)["answers"]
    assert [a["response"] for a in answers] == [{"transcript": "Hello world."}]


def test_audio_segments_with_speakers_and_prelabel(web_server, web_client, web_org, new_page, uniq, tmp_path):
    name = f"interviews {uniq}"
    create_audio_project(web_client, name)
    pid = web_org.project_id(name)
    url = upload(web_client, tmp_path, "interview.wav", tone_wav())
    common = {"project": name, "attachment": url, "segments": True, "speakers": ["Ana", "Ben"], "language": "en"}
    task_id = create_audio_task(web_client, **common)
    hypothesis = {"transcript": "Good morning.", "segments": [{"start": 0.2, "end": 1.8, "text": "Good morning.", "speaker": "Ben"}]}
    hyp_id = create_audio_task(web_client, **common, hypothesis=hypothesis)
    annotator = web_org.person("annotator")
    web_org.add_member(pid, annotator)

    page = new_page()
    login(page, web_server, annotator)
    first = (open_workbench(page, web_server, pid), page.get_attribute("#workbench", "data-assignment"))[1]
    assert page.evaluate("window.assayWorkbench.current().task.task_id") == task_id
    audio_ready(page)
    rows = page.locator(".at-segment")
    assert rows.count() == 0

    # segment 1: start at 0.5 s, type, end at 2.25 s, speaker by Ctrl+G (first speaker)
    seek(page, 0.5)
    page.keyboard.press("Control+BracketLeft")
    assert page.evaluate("document.activeElement.classList.contains('at-seg-text')")
    page.keyboard.type("Hello   everyone.")
    seek(page, 2.25)
    page.keyboard.press("Control+BracketRight")
    page.keyboard.press("Control+g")
    # segment 2: start at 2.5 s, type, then leave the box and choose speaker 2 by its key
    seek(page, 2.5)
    page.keyboard.press("Control+BracketLeft")
    page.keyboard.type("Hi Ana!")
    page.keyboard.press("Escape")
    page.keyboard.press("2")
    assert rows.count() == 2
    assert rows.nth(0).locator(".at-speaker").input_value() == "Ana"
    assert rows.nth(1).locator(".at-speaker").input_value() == "Ben"
    assert rows.nth(1).locator(".at-end").input_value() == ""
    # ending before the start is refused by the tool, then the right end
    seek(page, 1.0)
    page.keyboard.press("Control+BracketRight")
    assert "not after this segment's start" in page.locator(".at-seg-hint").inner_text()
    seek(page, 4)
    page.keyboard.press("Control+BracketRight")
    assert rows.nth(1).locator(".at-end").input_value() == "4"
    assert page.locator(".at-joined").inner_text() == "Hello everyone. Hi Ana!"
    screenshot(page, "audiotranscription")

    # a third segment without an end: the shell shows why, nothing is stored
    seek(page, 5)
    page.keyboard.press("Control+BracketLeft")
    page.keyboard.press("Enter")  # leaves the segment's text box, does not submit
    assert web_org.task(task_id)["answers"] == []
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('wb-error').textContent.includes('Segment 3 has no end')")
    assert web_org.task(task_id)["answers"] == []
    # deleted, undone, deleted for good (by its button)
    assert rows.count() == 3
    page.keyboard.press("Delete")
    assert rows.count() == 2
    page.keyboard.press("Control+z")
    assert rows.count() == 3
    rows.nth(2).locator(".at-remove").click()
    assert rows.count() == 2

    page.keyboard.press("Enter")
    wait_ready(page, first)
    expected = {"transcript": "Hello everyone. Hi Ana!", "segments": [
        {"start": 0.5, "end": 2.25, "text": "Hello everyone.", "speaker": "Ana"},
        {"start": 2.5, "end": 4, "text": "Hi Ana!", "speaker": "Ben"},
    ]}
    assert web_client.get_task(task_id).response == expected
    assert [a["response"] for a in web_org.task(task_id)["answers"]] == [expected]

    # the pre-label is the starting answer; Enter accepts it
    assert page.evaluate("window.assayWorkbench.current().task.task_id") == hyp_id
    assert "pre-label" in page.locator("#wb-notice").inner_text()
    assert rows.count() == 1
    assert rows.nth(0).locator(".at-seg-text").input_value() == "Good morning."
    assert rows.nth(0).locator(".at-speaker").input_value() == "Ben"
    # with no segment left there is nothing to submit; undo brings the pre-label back
    page.keyboard.press("Control+ArrowDown")
    page.keyboard.press("Escape")
    page.keyboard.press("Delete")
    assert rows.count() == 0
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('wb-error').textContent.includes('Mark at least one segment')")
    page.keyboard.press("Control+z")
    assert rows.count() == 1
    page.keyboard.press("Enter")
    wait_empty(page)
    assert web_client.get_task(hyp_id).response == hypothesis


def test_audio_task_params_are_checked(web_client, uniq, tmp_path):
    name = f"bad audio {uniq}"
    create_audio_project(web_client, name)
    bad = [
        ({"attachment": "tone.wav"}, "attachment: "),
        ({"attachment": "https://example.com/a.wav", "speakers": ["Ana", "Ana"]}, "speakers: "),
        ({"attachment": "https://example.com/a.wav", "segments": True,
          "hypothesis": {"transcript": "a b", "segments": [{"start": 0, "end": 1, "text": "a"}, {"start": 2, "end": 1.5, "text": "b"}]}},
         "hypothesis.segments[1].end: "),
    ]
    for body, field in bad:
        with pytest.raises(ScaleInvalidRequest) as info:
            create_audio_task(web_client, project=name, **body)
        assert info.value.code == 400
        assert str(info.value.message).startswith(field), info.value.message


# ----------------------------------------------------------------------------- documents

PAGE_W, PAGE_H = 1600, 1200
FEATURES = [{"type": "block", "label": "header", "children": [{"type": "text", "label": "title"}]},
            {"type": "text", "label": "total"}]


def drag(page, img, x0: float, y0: float, x1: float, y1: float) -> None:
    """Drag on the page image from/to points given as fractions of its shown size."""
    r = img.bounding_box()
    page.mouse.move(r["x"] + x0 * r["width"], r["y"] + y0 * r["height"])
    page.mouse.down()
    page.mouse.move(r["x"] + (x0 + x1) / 2 * r["width"], r["y"] + (y0 + y1) / 2 * r["height"], steps=3)
    page.mouse.move(r["x"] + x1 * r["width"], r["y"] + y1 * r["height"], steps=3)
    page.mouse.up()


def expected_box(x0, y0, x1, y1):
    return {"left": x0 * PAGE_W, "top": y0 * PAGE_H, "width": (x1 - x0) * PAGE_W, "height": (y1 - y0) * PAGE_H}


def assert_box(location, want, tol=PAGE_W / 400):
    """Image pixels, not screen pixels: within a screen pixel or so of the natural size."""
    assert location["type"] == "box"
    for key, value in want.items():
        assert isinstance(location[key], int)
        assert abs(location[key] - value) <= tol + 2, (key, location, want)


def test_document_draw_label_type_delete_undo(web_server, web_client, web_org, new_page, uniq, tmp_path):
    name = f"invoices {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.DocumentTranscription, params={"instruction": "Transcribe the invoice."})
    pid = web_org.project_id(name)
    pages = [
        upload(web_client, tmp_path, "p1.png", page_png(PAGE_W, PAGE_H, [(160, 120, 640, 90), (160, 360, 1200, 40), (160, 440, 1100, 40)])),
        upload(web_client, tmp_path, "p2.png", page_png(PAGE_W, PAGE_H, [(160, 200, 1200, 40), (1000, 960, 400, 70)])),
    ]
    task = web_client.create_task(TaskType.DocumentTranscription, project=name, attachments=pages, features=FEATURES)
    annotator = web_org.person("annotator")
    web_org.add_member(pid, annotator)

    page = new_page()
    login(page, web_server, annotator)
    open_workbench(page, web_server, pid)
    page.wait_for_function("() => document.querySelector('.dt-image').naturalWidth > 0")
    img = page.locator(".dt-image")
    assert page.evaluate("[document.querySelector('.dt-image').naturalWidth, document.querySelector('.dt-image').naturalHeight]") == [PAGE_W, PAGE_H]
    shown = img.bounding_box()
    assert shown["width"] < PAGE_W / 1.5  # shown smaller than its pixels: the test tells image from screen pixels
    assert page.locator(".dt-page-label").inner_text() == "Page 1 of 2"
    labels = page.locator(".dt-label")
    assert [labels.nth(i).inner_text().split()[0] for i in range(3)] == ["1", "2", "3"]

    # box 1 on page 1: the title (drawn, labeled with its key, text typed)
    a = (0.09, 0.09, 0.52, 0.19)
    drag(page, img, *a)
    assert page.locator(".dt-box").count() == 1
    page.keyboard.press("2")
    assert page.locator(".dt-ann .dt-ann-label").nth(0).input_value() == "title"
    page.keyboard.press("t")
    page.keyboard.type("INVOICE")
    page.keyboard.press("Enter")  # leaves the text box, does not submit
    assert web_org.task(task.id)["answers"] == []

    # box 2 on page 2: the total
    page.keyboard.press("]")
    assert page.locator(".dt-page-label").inner_text() == "Page 2 of 2"
    page.wait_for_function("() => document.querySelector('.dt-image').complete && document.querySelector('.dt-image').naturalWidth > 0")
    assert page.locator(".dt-box").count() == 0  # page 1's box is not drawn on page 2
    b = (0.61, 0.79, 0.89, 0.87)
    drag(page, img, *b)
    page.keyboard.press("3")
    page.keyboard.press("t")
    page.keyboard.type("42.00")
    page.keyboard.press("Escape")
    assert page.locator(".dt-ann").count() == 2
    page.keyboard.press("[")
    assert page.locator(".dt-box").count() == 1
    screenshot(page, "documenttranscription")

    # a third box without text (a `text` feature needs it): the shell shows why, nothing is stored
    drag(page, img, 0.1, 0.3, 0.8, 0.34)
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('wb-error').textContent.includes('Type the text of annotation 3')")
    assert web_org.task(task.id)["answers"] == []
    page.keyboard.press("Delete")  # the new box is selected; after it, the last one is
    assert page.locator(".dt-ann").count() == 2
    # delete the (now selected) second box, undo brings it back
    assert page.locator(".dt-ann.selected .dt-text").input_value() == "42.00"
    page.keyboard.press("Delete")
    assert page.locator(".dt-ann").count() == 1
    page.keyboard.press("Control+z")
    assert page.locator(".dt-ann").count() == 2
    assert page.locator(".dt-ann .dt-text").nth(1).input_value() == "42.00"

    page.keyboard.press("Enter")
    wait_empty(page)
    response = web_client.get_task(task.id).response
    anns = response["annotations"]
    assert [(x["page"], x["label"], x["text"]) for x in anns] == [(0, "title", "INVOICE"), (1, "total", "42.00")]
    assert_box(anns[0]["location"], expected_box(*a))
    assert_box(anns[1]["location"], expected_box(*b))
    assert len({x["uuid"] for x in anns}) == 2
    assert [x["response"] for x in web_org.task(task.id)["answers"]] == [response]


def test_document_prelabel_select_and_relabel(web_server, web_client, web_org, new_page, uniq, tmp_path):
    name = f"forms {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.DocumentTranscription, params={"instruction": "Check the boxes."})
    pid = web_org.project_id(name)
    url = upload(web_client, tmp_path, "form.png", page_png(PAGE_W, PAGE_H, [(100, 100, 800, 80), (100, 300, 400, 40)]))
    hypothesis = {"annotations": [
        {"uuid": "h1", "page": 0, "label": "header", "text": "", "location": {"type": "box", "left": 80, "top": 80, "width": 900, "height": 300}},
        {"uuid": "h2", "page": 0, "label": "title", "text": "ACME Form", "refs": ["h1"],
         "location": {"type": "box", "left": 100, "top": 100, "width": 800, "height": 80}},
    ]}
    task = web_client.create_task(TaskType.DocumentTranscription, project=name, attachment=url, features=FEATURES, hypothesis=hypothesis)
    annotator = web_org.person("annotator")
    web_org.add_member(pid, annotator)

    page = new_page()
    login(page, web_server, annotator)
    open_workbench(page, web_server, pid)
    page.wait_for_function("() => document.querySelectorAll('.dt-box').length === 2")
    assert "pre-label" in page.locator("#wb-notice").inner_text()
    assert page.locator(".dt-page-label").inner_text() == "Page 1 of 1"
    # a click inside both boxes selects the smaller one (the title inside the header)
    r = page.locator(".dt-image").bounding_box()
    page.mouse.click(r["x"] + 500 / PAGE_W * r["width"], r["y"] + 140 / PAGE_H * r["height"])
    assert page.locator(".dt-box.selected").get_attribute("data-uuid") == "h2"
    page.keyboard.press("ArrowUp")
    assert page.locator(".dt-box.selected").get_attribute("data-uuid") == "h1"
    # deleting the header drops it from the title's refs, so the answer stays valid
    page.keyboard.press("Delete")
    assert page.locator(".dt-ann").count() == 1
    page.keyboard.press("3")  # relabel the remaining (selected) box
    assert page.locator(".dt-ann .dt-ann-label").input_value() == "total"
    # nothing left: nothing to submit; undo brings the box back
    page.keyboard.press("Delete")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('wb-error').textContent.includes('Draw a box')")
    page.keyboard.press("Control+z")
    assert page.locator(".dt-ann").count() == 1
    page.keyboard.press("Enter")
    wait_empty(page)
    stored = web_client.get_task(task.id).response
    assert stored == {"annotations": [{"uuid": "h2", "page": 0, "label": "total", "text": "ACME Form",
                                       "location": {"type": "box", "left": 100, "top": 100, "width": 800, "height": 80}}]}


def test_document_pdf_is_shown_in_a_frame_without_drawing(web_server, web_client, web_org, new_page, uniq, tmp_path):
    name = f"pdfs {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.DocumentTranscription, params={"instruction": "Transcribe."})
    pid = web_org.project_id(name)
    pdf = (b"%PDF-1.1\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
           b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
    url = upload(web_client, tmp_path, "doc.pdf", pdf)
    hypothesis = {"annotations": [{"uuid": "p1", "page": 1, "label": "total", "text": "12.00",
                                   "location": {"type": "box", "left": 10, "top": 10, "width": 50, "height": 20}}]}
    task = web_client.create_task(TaskType.DocumentTranscription, project=name, attachment=url, features=FEATURES, hypothesis=hypothesis)
    annotator = web_org.person("annotator")
    web_org.add_member(pid, annotator)

    page = new_page()
    login(page, web_server, annotator)
    open_workbench(page, web_server, pid)
    # the signed link has no .pdf in it: the image fails to load and the frame takes over
    page.wait_for_selector(".dt-pdf-note")
    assert page.locator(".dt-page").is_hidden()
    assert page.locator(".dt-page-label").inner_text() == "PDF page 1"
    assert page.locator(".dt-iframe").get_attribute("src").endswith("#page=1")
    page.keyboard.press("]")
    assert page.locator(".dt-page-label").inner_text() == "PDF page 2"
    assert page.locator(".dt-iframe").get_attribute("src").endswith("#page=2")
    assert page.locator(".dt-box").count() == 0
    # the pre-labelled annotation can still be corrected
    text = page.locator(".dt-ann .dt-text")
    text.fill("12.50")
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    wait_empty(page)
    stored = web_client.get_task(task.id).response
    assert stored["annotations"][0]["text"] == "12.50" and stored["annotations"][0]["page"] == 1


def test_audio_test_key_gets_a_synthetic_answer(web_server, uniq):
    client = web_server.client(web_server.test_key)
    name = f"synthetic audio {uniq}"
    create_audio_project(client, name)
    task_id = create_audio_task(client, project=name, attachment="https://example.com/call.wav", segments=True, speakers=["Ana", "Ben"])
    task = client.get_task(task_id)
    assert task.status == "completed"
    segments = task.response["segments"]
    assert segments and task.response["transcript"] == " ".join(s["text"] for s in segments)
    assert all(0 <= s["start"] < s["end"] and s["speaker"] in ("Ana", "Ben") for s in segments)
    assert all(a["end"] <= b["start"] for a, b in zip(segments, segments[1:]))
