"""STAND-IN for the HCP Terraform API, used only by the tests: HCP Terraform cannot be reached from here.

Nothing in it was recorded from a live service. Its answers are MODELLED ON HCP Terraform's API
documentation (Runs API "Get run details", Plans API "Show a plan" and "Retrieve the JSON execution
plan": 307 Temporary Redirect to a short-lived download URL, 204 while the plan runs, JSON:API error
objects with 401/404) and on the redacted-plan endpoint Terraform's own cloud backend reads
(``/plans/:id/json-output-redacted``, internal/cloud/backend_common.go). The documents it serves are the
files in tests/fixtures/hcp/ (runs by id, plans by id), written in the documented shapes.

It serves on 127.0.0.1 only, records every request (path, whether it carried a token) and refuses a
download request that carries one: the token is for the API, not for the storage behind the redirect.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "hcp"


@dataclass
class Behaviour:
    """What the stand-in does besides serving the fixtures."""

    token: str = "plan-team-token"  # the only token it accepts
    admin_token: str = "admin-token"  # the only token the full json-output accepts (documented: admin only)
    pending: set[str] = field(default_factory=set)  # plan ids whose JSON is not ready (204)
    no_location: bool = False  # a 307 without Location
    download_status: int = 200
    redirect_status: int = 307  # HCP answers 307; any 3xx a server may use instead
    location: str | None = None  # the Location to send instead of the absolute download URL
    download_body: bytes | None = None  # what the download URL serves instead of the fixture
    direct: bool = False  # answer the plan's JSON itself (200) instead of redirecting
    run_body: bytes | None = None  # what GET /api/v2/runs/:id answers (200) instead of the fixture


class StandInHcpApi:
    """A local HTTP server answering like HCP Terraform's API (see the module docstring)."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour or Behaviour()
        self.requests: list[dict[str, Any]] = []
        self.accepts: list[str | None] = []  # the Accept header of each request, in order
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:  # quiet
                return

            def do_GET(self) -> None:
                stand_in.requests.append({"path": self.path, "authorization": self.headers.get("Authorization")})
                stand_in.accepts.append(self.headers.get("Accept"))
                stand_in.answer(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    def __enter__(self) -> StandInHcpApi:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> None:
        handler.send_response(status)
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _error(self, handler: BaseHTTPRequestHandler, status: int, title: str) -> None:
        body = json.dumps({"errors": [{"status": str(status), "title": title}]}).encode()
        self._send(handler, status, body, {"Content-Type": "application/vnd.api+json"})

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = handler.path.split("?", 1)[0].strip("/").split("/")
        if parts[0] == "_archivist":  # the short-lived download URL behind the redirect
            self._download(handler, parts[1])
            return
        auth = handler.headers.get("Authorization", "")
        if auth not in (f"Bearer {self.behaviour.token}", f"Bearer {self.behaviour.admin_token}"):
            self._error(handler, 401, "unauthorized")
        elif parts[:3] == ["api", "v2", "runs"] and len(parts) == 4 and self.behaviour.run_body is not None:
            self._send(handler, 200, self.behaviour.run_body, {"Content-Type": "application/vnd.api+json"})
        elif parts[:3] == ["api", "v2", "runs"] and len(parts) == 4 and (FIXTURES / f"{parts[3]}.json").is_file():
            body = (FIXTURES / f"{parts[3]}.json").read_bytes()
            self._send(handler, 200, body, {"Content-Type": "application/vnd.api+json"})
        elif (
            parts[:3] == ["api", "v2", "plans"]
            and len(parts) == 5
            and parts[4] in ("json-output", "json-output-redacted")
        ):
            self._plan_json(
                handler, parts[3], full=parts[4] == "json-output", admin=auth.endswith(self.behaviour.admin_token)
            )
        else:
            self._error(handler, 404, "not found")

    def _download(self, handler: BaseHTTPRequestHandler, plan_id: str) -> None:
        if handler.headers.get("Authorization"):
            self._error(handler, 400, "the download URL takes no Authorization header")
        elif self.behaviour.download_status != 200:
            self._send(handler, self.behaviour.download_status, b"<Error>expired</Error>")
        else:
            body = self.behaviour.download_body
            if body is None:
                body = (FIXTURES / f"{plan_id}.json").read_bytes()
            self._send(handler, 200, body, {"Content-Type": "application/json"})

    def _plan_json(self, handler: BaseHTTPRequestHandler, plan_id: str, *, full: bool, admin: bool) -> None:
        b = self.behaviour
        if (full and not admin) or not (FIXTURES / f"{plan_id}.json").is_file():
            self._error(handler, 404, "not found")  # the full JSON: documented as admin access only
        elif plan_id in b.pending:
            self._send(handler, 204)
        elif b.direct:
            self._send(handler, 200, (FIXTURES / f"{plan_id}.json").read_bytes(), {"Content-Type": "application/json"})
        elif b.no_location:
            self._send(handler, b.redirect_status)
        else:
            location = f"{self.address}/_archivist/{plan_id}?expires=60" if b.location is None else b.location
            self._send(handler, b.redirect_status, headers={"Location": location})
