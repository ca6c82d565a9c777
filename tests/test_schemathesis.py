"""Fuzzing the API from its own OpenAPI schema: schemathesis generates requests for every
operation (typed bodies, path and query parameters, valid and invalid), sends them to a
real `assay serve` on SQLite and PostgreSQL with an admin key, and no answer may be a
server error. The example count is bounded so the run fits in the suite."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests import local_http

# per operation; ~70 operations × 2 databases
EXAMPLES = int(os.environ.get("ASSAY_TEST_FUZZ_EXAMPLES", "12"))


@pytest.fixture(scope="module")
def fuzzed_server(server):
    """The shared server, with a project, a batch and tasks for generated ids to miss or hit."""
    http = local_http.Client(base_url=server.url, auth=(server.live_key, ""), timeout=30)
    http.post("/v1/projects", json={"type": "categorization", "name": "fuzz", "params": {}})
    http.post("/v1/batches", json={"project": "fuzz", "name": "fuzz batch"})
    for i in range(3):
        http.post("/v1/task/categorization", json={"project": "fuzz", "attachment": f"t{i}", "attachment_type": "text",
                                                   "categories": ["a", "b"]})
    return server


def test_no_generated_request_is_a_server_error(fuzzed_server):
    schema = schemathesis.openapi.from_url(f"{fuzzed_server.url}/api/openapi.json")
    headers = {"Authorization": f"Bearer {fuzzed_server.live_key}"}
    errors: list[str] = []
    statuses: list[int] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
        @given(operation.as_strategy())
        def send(case):
            response = case.call(base_url=fuzzed_server.url, headers=headers, timeout=60)
            statuses.append(response.status_code)
            if response.status_code >= 500:
                errors.append(f"{operation.label}: {response.status_code} {response.text[:200]} <- {case.as_curl_command()[:400]}")

        send()
    assert operations > 60 and len(statuses) > operations * 5
    assert any(200 <= code < 300 for code in statuses) and any(400 <= code < 500 for code in statuses)
    assert not errors, "server errors:\n" + "\n".join(errors[:20])
