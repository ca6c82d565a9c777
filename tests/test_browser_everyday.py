"""Everyday fixes found by trying assay, in Chromium: an admin resets a person's password
from the People page (the old one stops working, the new one signs in, the form says
Saved), and a too-short password is refused naming the field."""

from __future__ import annotations

import pytest

from tests.browser import Person, login

pytestmark = pytest.mark.browser


def test_admin_resets_a_password_from_the_people_page(web_server, web_org, new_page):
    person = web_org.person("annotator")
    page = new_page()
    login(page, web_server, Person(email="admin@assay.local", role="admin", id=0, password=web_server.password))
    page.goto(f"{web_server.url}/admin/users")
    form = page.locator(f"#password-{person.id}")
    # the server's own check (the browser's minlength bypassed)
    form.locator("input[name=password]").evaluate("e => e.removeAttribute('minlength')")
    form.locator("input[name=password]").fill("short")
    form.locator("button").click()
    form.locator("[data-error]").wait_for()
    assert "8 characters" in form.locator("[data-error]").inner_text()
    form.locator("input[name=password]").fill("a brand new password")
    form.locator("button").click()
    page.wait_for_selector(f"#password-{person.id} .saved")
    assert page.locator(f"#password-{person.id} .saved").inner_text() == "Saved"
    # the old password no longer signs in; the new one does
    other = new_page()
    other.goto(f"{web_server.url}/login")
    other.fill("input[name=email]", person.email)
    other.fill("input[name=password]", person.password)
    other.click("button[type=submit]")
    assert "/login" in other.url
    login(other, web_server, Person(email=person.email, role="annotator", id=person.id, password="a brand new password"))
    assert other.locator(".who .email").inner_text() == person.email
