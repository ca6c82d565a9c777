"""Shared pieces of the hostile test suite: a second organization with its own keys, raw
uploads, and signed links read back through the API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from tests import local_http
from tests.support import Server


@dataclass
class Tenant:
    """An organization as an attacker or a victim sees it: its name, live and test keys."""

    server: Server
    name: str
    key: str
    test_key: str

    @classmethod
    def new(cls, server: Server, label: str) -> "Tenant":
        name = f"{label} {uuid.uuid4().hex[:8]}"
        return cls(server, name, server.new_key(name), server.new_key(name, test=True))

    def http(self, test: bool = False) -> httpx.Client:
        return local_http.Client(base_url=self.server.url, auth=(self.test_key if test else self.key, ""), timeout=30)

    def me(self) -> dict:
        r = self.http().get("/api/me")
        assert r.status_code == 200, r.text
        return r.json()

    def upload(self, filename: str, content: bytes, content_type: str) -> dict:
        r = self.http().post("/v1/files/upload", files={"file": (filename, content, content_type)})
        assert r.status_code == 200, r.text
        return r.json()

    def project(self, task_type: str = "categorization", **params) -> str:
        name = f"p {uuid.uuid4().hex[:8]}"
        r = self.http().post("/v1/projects", json={"type": task_type, "name": name, "params": params})
        assert r.status_code == 200, r.text
        return name

    def project_id(self, name: str) -> str:
        r = self.http().get(f"/v1/projects/{name}")
        assert r.status_code == 200, r.text
        return r.json()["id"]

    def signed_link(self, task_id: str) -> str:
        """The attachment link the server signs for one of this tenant's tasks."""
        r = self.http().get("/v1/tasks", params={"include_attachment_url": "true", "limit": 100})
        assert r.status_code == 200, r.text
        doc = next(d for d in r.json()["docs"] if d["task_id"] == task_id)
        return doc["attachment_url"]
