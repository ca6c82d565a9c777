"""Data in and out in Chromium: a project made from a template (instructions previewed),
a CSV with three bad rows refused with their line numbers and nothing stored, then fixed
and imported; an export downloaded from the project page, streamed and as a background job."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.browser import Person, login, screenshot

pytestmark = pytest.mark.browser

BAD = "text,label\nlovely,pos\n,neg\nmeh,maybe\nfine,pos\nbad,neg,extra\n"
GOOD = "text,label\nlovely,pos\nugly,neg\nmeh,neg\nfine,pos\nbad,neg\n"


def test_template_project_import_and_export(web_server, web_org, new_page, uniq, tmp_path):
    admin = Person(email="admin@assay.local", role="admin", id=0, password=web_server.password)
    page = new_page(1280, 1000)
    login(page, web_server, admin)
    page.goto(f"{web_server.url}/admin/projects")
    page.click("#new-project-link")
    page.wait_for_url(re.compile(r".*/admin/projects/new$"))
    page.check("input[name=template][value=sentiment]")
    assert page.input_value("textarea[name=labels]") == "positive\nnegative\nneutral"
    name = f"Café reviews {uniq}"
    page.fill("input[name=name]", name)
    page.fill("textarea[name=labels]", "pos\nneg")
    page.fill("textarea[name=instruction]", "# Sentiment\n\nPick **pos** or **neg**.")
    page.wait_for_selector("#instruction-preview h1:text-is('Sentiment')")
    screenshot(page, "project-new")
    page.click("#new-project button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/projects/[0-9a-f]{24}$"))
    pid = page.url.rsplit("/", 1)[1]
    stored = web_org.http.get(f"/api/projects/{pid}").json()
    assert stored["name"] == name and stored["type"] == "categorization" and stored["param_history"][-1]["categories"] == ["pos", "neg"]
    assert stored["labelers"] == 0 and "nobody can label" in page.inner_text("#no-labelers")

    page.click("#import-link")
    page.wait_for_selector("#import[data-ready]")  # importer.js attached its handlers
    bad = tmp_path / "reviews.csv"
    bad.write_text(BAD)
    page.set_input_files("#import input[name=file]", str(bad))
    page.select_option("#import select[name=mode]", "prelabels")
    page.click("#preview-button")
    page.wait_for_selector("#errors tbody tr")
    lines = [int(x) for x in page.locator("#errors tbody tr td:first-child").all_inner_texts()]
    assert lines == [3, 4, 6] and page.is_disabled("#import-button")
    assert "3 of 5 rows have errors" in page.inner_text("#summary")
    screenshot(page, "import-errors")
    # even forced, the import refuses the file whole
    page.evaluate("document.getElementById('import-button').disabled = false")
    page.click("#import-button")
    page.wait_for_selector("#import [data-error]:not([hidden])")
    assert "nothing was imported" in page.inner_text("#import [data-error]")
    assert web_org.http.get("/v1/tasks", params={"project": name}).json()["total"] == 0

    good = tmp_path / "fixed.csv"
    good.write_text(GOOD)
    page.set_input_files("#import input[name=file]", str(good))
    page.click("#preview-button")
    page.wait_for_function("() => !document.getElementById('import-button').disabled")
    assert page.locator("#rows tbody tr").count() == 5 and page.locator("#errors tbody tr").count() == 0
    page.click("#import-button")
    page.wait_for_selector("#result:not([hidden])")
    assert "Imported 5 tasks" in page.inner_text("#result")
    tasks = web_org.http.get("/v1/tasks", params={"project": name}).json()["docs"]
    assert sorted(t["params"]["hypothesis"]["category"] for t in tasks) == ["neg", "neg", "neg", "pos", "pos"]

    page.goto(f"{web_server.url}/admin/projects/{pid}")
    page.select_option("#export-form select[name=format]", "csv")
    page.select_option("#export-form select[name=status]", "all")
    with page.expect_download() as download:
        page.click("#export-download")
    rows = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
    assert len(rows) == 5 and download.value.suggested_filename == f"{name}.csv"
    page.click("#export-start")
    page.wait_for_selector("#export-history tr[data-status=done] a.download")
    screenshot(page, "project-export")
    with page.expect_download() as download:
        page.click("#export-history tr[data-status=done] a.download")
    assert len(list(csv.DictReader(io.StringIO(open(download.value.path()).read())))) == 5
