"""Attachment checks: an http(s) attachment that cannot be downloaded puts the task in
status `error`, fires the callback with the error, and frees the unique_id when
`clear_unique_id_on_error` was set."""

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from scaleapi.tasks import TaskType

from tests.support import serve_in_thread, wait_until


@pytest.fixture()
def image_host():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path.startswith("/ok"):
                body = b"\x89PNG\r\n\x1a\n" + b"0" * 100
                self.send_response(200)
                self.send_header("content-type", "image/png")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_response(404)
                self.send_header("content-length", "0")
                self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    serve_in_thread(server)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _project(client, name):
    client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "Pick."})


def test_broken_attachment_errors_task_and_frees_unique_id(server_factory, image_host, receiver, uniq):
    # retries 0.2 s, then 1 s apart (the product waits 2 s, then 10 s)
    srv = server_factory(ASSAY_CHECK_ATTACHMENTS="true", ASSAY_ATTACHMENT_CHECK_RETRY_SECONDS="0.2")
    client = srv.client()
    _project(client, "imgs")
    bad = client.create_task(
        TaskType.Categorization, project="imgs", attachment=f"{image_host}/missing.png", attachment_type="image",
        categories=["cat", "dog"], unique_id="img-1", clear_unique_id_on_error=True, callback_url=receiver.url("/bad"),
    )
    keep = client.create_task(
        TaskType.Categorization, project="imgs", attachment=f"{image_host}/missing2.png", attachment_type="image",
        categories=["cat", "dog"], unique_id="img-2",
    )
    good = client.create_task(
        TaskType.Categorization, project="imgs", attachment=f"{image_host}/ok.png", attachment_type="image", categories=["cat", "dog"]
    )
    # a 404 is retried twice before the task is given up as error
    errored = wait_until(lambda: client.get_task(bad.id).status == "error", timeout=40)
    assert errored
    task = client.get_task(bad.id).as_dict()
    assert "404" in task["response"]["error"] and "missing.png" in task["response"]["error"]
    assert "unique_id" not in task  # freed
    hooks = receiver.wait_for(lambda r: r.path == "/bad")
    assert hooks and hooks[0].body["task"]["status"] == "error"
    # the freed unique_id can be used again
    again = client.create_task(TaskType.Categorization, project="imgs", attachment=f"{image_host}/ok.png", attachment_type="image",
                               categories=["cat", "dog"], unique_id="img-1")
    assert again.id != bad.id
    assert wait_until(lambda: client.get_task(keep.id).status == "error", timeout=30)
    assert client.get_task(keep.id).as_dict()["unique_id"] == "img-2"  # not cleared without the flag
    assert client.get_task(good.id).status == "pending"


def test_private_attachment_refused_when_not_allowed(private_refusing_server, image_host, uniq):
    srv = private_refusing_server
    client = srv.client()
    _project(client, f"imgs {uniq}")
    task = client.create_task(TaskType.Categorization, project=f"imgs {uniq}", attachment=f"{image_host}/ok.png", attachment_type="image",
                              categories=["cat", "dog"])
    assert wait_until(lambda: client.get_task(task.id).status == "error", timeout=20)
    assert "private or loopback" in client.get_task(task.id).as_dict()["response"]["error"]


def test_text_attachments_are_not_fetched(private_refusing_server, uniq):
    # a fetch would fail (refused as private, or nothing listens at port 1): the task would error
    srv = private_refusing_server
    client = srv.client()
    _project(client, f"texts {uniq}")
    task = client.create_task(TaskType.Categorization, project=f"texts {uniq}", attachment="http://127.0.0.1:1/not-a-url-but-text",
                              attachment_type="text", categories=["a", "b"])
    # an image task made after it is checked (and refused): the checker has been by
    image = client.create_task(TaskType.Categorization, project=f"texts {uniq}", attachment="http://127.0.0.1:1/x.png",
                               attachment_type="image", categories=["a", "b"])
    assert wait_until(lambda: client.get_task(image.id).status == "error", timeout=20)
    assert client.get_task(task.id).status == "pending"
