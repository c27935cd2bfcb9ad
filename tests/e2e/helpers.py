"""Running the real CLI in-process and looking at a directory with plain httpx."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from reconciler.app import Runtime
from reconciler.cli import main
from tests.conftest import start_server


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def reconciler(
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    runtime: Runtime | None = None,
) -> Run:
    """Run ``reconciler ARGS`` as a user would, without a terminal.

    ``runtime`` replaces the outside world of the run (a fault-injecting transport,
    quick retries), as a program calling the application layer would.
    """
    runner = CliRunner()
    result = runner.invoke(
        main, list(args), env=env, input=stdin, catch_exceptions=False, obj=runtime
    )
    return Run(result.exit_code, result.stdout, result.stderr)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


class Directory:
    """A SCIM directory seen with plain httpx, independent of reconciler's client."""

    def __init__(
        self, base_url: str, token: str | None = None, transport: httpx.BaseTransport | None = None
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(
            base_url=base_url.rstrip("/") + "/", headers=headers, transport=transport
        )

    def close(self) -> None:
        self.http.close()

    def list(self, resource_type: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        start = 1
        while True:
            page = self.http.get(resource_type, params={"startIndex": start, "count": 100}).json()
            found += page.get("Resources", [])
            if not page.get("Resources") or len(found) >= page["totalResults"]:
                return found
            start += len(page["Resources"])

    def users(self) -> dict[str, dict[str, Any]]:
        return {u["userName"].casefold(): u for u in self.list("Users")}

    def groups(self) -> dict[str, set[str]]:
        """Group name -> member userNames."""
        names = {u["id"]: u["userName"] for u in self.list("Users")}
        return {
            g["displayName"]: {names.get(m["value"], m["value"]) for m in g.get("members") or []}
            for g in self.list("Groups")
        }

    def create_user(self, user_name: str, **attrs: Any) -> str:
        body = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "emails": [{"value": user_name, "type": "work", "primary": True}],
            **attrs,
        }
        response = self.http.post("Users", json=body)
        response.raise_for_status()
        return str(response.json()["id"])

    def patch(self, resource_type: str, rid: str, *ops: dict[str, Any]) -> None:
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": list(ops),
        }
        self.http.patch(f"{resource_type}/{rid}", json=body).raise_for_status()


@contextmanager
def served_sandbox(db: Path, *options: str) -> Iterator[str]:
    """``reconciler sandbox serve`` in its own process on a free loopback port, with
    ``options``; yields its base URL once it answers, and stops it after."""

    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "reconciler", "sandbox", "serve",
                "--db", str(db), "--port", str(port), "-q", *options]  # fmt: skip

    def answers(port: int) -> bool:
        url = f"http://127.0.0.1:{port}/scim/directory/sandbox/ServiceProviderConfig"
        httpx.get(url, timeout=1)
        return True

    process, port = start_server(command, answers)
    try:
        yield f"http://127.0.0.1:{port}/scim/directory/sandbox"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)  # a stop that hangs fails the test...
        except subprocess.TimeoutExpired:
            process.kill()  # ...and leaves no process behind for the next one
            process.wait()
            raise
