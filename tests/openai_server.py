"""A small OpenAI-compatible chat server the tests own (`POST /v1/chat/completions`, `GET
/v1/models`), answering from a script: as a judge it prefers the response containing
"GOOD" (pairwise, ranking, rubric), as a chat model it answers "Reply <n> to: <prompt>",
and models named good-*, weak-*, flaky-* answer well, badly, or alternately (evaluations).
`mode` switches on failures and a position-biased judge; every request is recorded with
its Authorization header."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import ThreadingHTTPServer

from tests.support import JSONHandler, serve_in_thread

PAIR = re.compile(r"\[Response A\]\n(.*?)\n\n\[Response B\]\n(.*?)\n\n", re.S)
NUMBERED = re.compile(r"\[Response (\d+)\]\n(.*?)(?=\n\n\[Response \d+\]|\n\n[A-Z])", re.S)
CRITERION = re.compile(r"^- (\S+) \(", re.M)


class OpenAIServer:
    def __init__(self):
        self.requests: list[dict] = []
        self.mode = "ok"  # ok | biased | slow | error | garbage
        self.replies = 0
        self.lock = threading.Lock()
        owner = self

        class Handler(JSONHandler):
            def do_GET(self):  # noqa: N802
                owner.record("GET", self.path, self.headers, None)
                self._answer(200, {"object": "list", "data": [{"id": "judge-1", "object": "model"}, {"id": "chat-1", "object": "model"}]})

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["content-length"])) or b"null")
                owner.record("POST", self.path, self.headers, body)
                if owner.mode == "error":
                    return self._answer(500, {"error": {"message": "the model crashed"}})
                if owner.mode == "slow":
                    time.sleep(2.5)
                if self.path != "/v1/chat/completions":
                    return self._answer(404, {"error": {"message": "not found"}})
                content = owner.reply(body["messages"], body.get("model", ""))
                self._answer(200, {"id": "chatcmpl-1", "object": "chat.completion", "model": body["model"],
                                   "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        serve_in_thread(self.httpd)

    def record(self, method: str, path: str, headers, body) -> None:
        with self.lock:
            self.requests.append({"method": method, "path": path, "authorization": headers.get("authorization"), "body": body})

    def reply(self, messages: list[dict], model: str = "") -> str:
        prompt = messages[-1]["content"]
        if self.mode == "garbage":
            return "I think the first one is nicer."
        pair = PAIR.search(prompt)
        if pair:
            if self.mode == "biased":
                return '{"winner": "A", "strength": "much better", "justification": "The first one."}'
            a, b = pair.groups()
            winner = "A" if "GOOD" in a and "GOOD" not in b else "B" if "GOOD" in b and "GOOD" not in a else "tie"
            strength = ', "strength": "better"' if winner != "tie" else ""
            return f'```json\n{{"winner": "{winner}"{strength}, "justification": "Response {winner} is correct."}}\n```'
        numbered = dict(NUMBERED.findall(prompt + "\n\nX"))
        if "Rank all responses" in prompt:
            order = sorted(numbered, key=lambda k: ("GOOD" not in numbered[k], int(k)))
            return json.dumps({"ranking": [int(k) for k in order], "justification": "GOOD first."})
        if "Score every response" in prompt:
            criteria = CRITERION.findall(prompt)
            return json.dumps({"scores": {k: {c: {"score": 5 if "GOOD" in text else 2, "justification": "ok"} for c in criteria}
                                          for k, text in numbered.items()}})
        last_user = next(m["content"] for m in reversed(messages) if m["role"] == "user")
        if model.startswith(("good", "weak", "flaky")):  # models under evaluation
            return self.evaluated(model, last_user)
        with self.lock:
            self.replies += 1
            n = self.replies
        return f"Reply {n} to: {last_user}"

    def evaluated(self, model: str, prompt: str) -> str:
        """good-*: a GOOD answer; weak-*: a weak one; flaky-*: GOOD on even-numbered
        prompts ("q2", "q4", …), weak on odd ones."""
        if model.startswith("flaky"):
            number = int(re.sub(r"\D", "", prompt) or 0)
            return f"A GOOD answer to {prompt}." if number % 2 == 0 else f"A weak answer to {prompt}."
        return f"A GOOD answer to {prompt}." if model.startswith("good") else f"A weak answer to {prompt}."

    def chat_calls(self) -> list[dict]:
        return [r for r in self.requests if r["path"] == "/v1/chat/completions"]

    def close(self) -> None:
        self.httpd.shutdown()
