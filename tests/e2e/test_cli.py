"""The command line as a user meets it: messages, exit codes, logs, secrets."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reconciler.sandbox import serve
from tests.conftest import SCIM2_SERVER_TOKEN
from tests.e2e.helpers import Directory, reconciler, write

USERS = """
version: 1
users:
  - userName: alice@example.com
    displayName: Alice
  - userName: bob@example.com
"""


def test_bad_files_exit_1_with_located_messages_and_no_traceback(tmp_path: Path) -> None:
    """Every problem is one line file:line:column: path: message; no traceback, exit 1."""
    write(
        tmp_path,
        "users.yaml",
        """
        version: 1
        users:
          - userName: alice@example.com
            displayNmae: Alice
          - userName: ALICE@example.com
        """,
    )
    target = f"sandbox:{tmp_path / 's.db'}"
    run = reconciler("plan", str(tmp_path), "--target", target, "--log-format", "console")
    assert run.exit_code == 1
    assert "Traceback" not in run.stderr
    plain = [line for line in run.stderr.splitlines() if not line.startswith("{")]
    lines = [line for line in plain if "users.yaml:" in line]  # JSON events aside
    assert len(lines) == 3  # the unknown key, and the twin userName at both of its lines
    assert "users.yaml:4:5: users[0].displayNmae:" in run.stderr
    assert not (tmp_path / "s.db").exists()  # no directory was opened


def test_validate_counts_what_it_checked(tmp_path: Path) -> None:
    """validate says how many users and groups it found valid, and touches no directory."""
    write(tmp_path, "users.yaml", USERS)
    run = reconciler("validate", str(tmp_path))
    assert run.exit_code == 0
    assert "2 users and 0 groups" in run.stdout


def test_validate_warns_about_a_listed_user_the_policy_protects(tmp_path: Path) -> None:
    """A protected user in the files is a warning in validate, not a silent OK."""
    write(tmp_path, "users.yaml", USERS + "policy: {users: {protect: [bob@example.com]}}\n")
    run = reconciler("validate", str(tmp_path), "--target", "https://scim.example.com/v2")
    assert run.exit_code == 0
    assert run.stdout.splitlines() == [
        "warning: user bob@example.com: listed in the files but protected by "
        "policy.users.protect; a plan never applies its entry",
        "OK: 2 users and 0 groups are valid for https://scim.example.com/v2 (dialect generic); "
        "1 warning.",
    ]


def test_json_logs_one_event_per_action_on_stderr(tmp_path: Path) -> None:
    """--log-format json after the subcommand: one JSON event per action, stdout stays clean."""
    write(tmp_path, "users.yaml", USERS)
    run = reconciler(
        "apply",
        str(tmp_path),
        "--target",
        f"sandbox:{tmp_path / 's.db'}",
        "--auto-approve",
        "--format",
        "json",
        "--log-format",
        "json",
    )
    assert run.exit_code == 0, run.stderr
    json.loads(run.stdout)  # one clean document
    events = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    actions = [e for e in events if e["event"] == "action"]
    assert sorted(e["key"] for e in actions) == ["alice@example.com", "bob@example.com"]
    for event in actions:
        assert {"resource", "key", "action", "outcome", "attempt", "duration_ms"} <= set(event)


def test_token_never_appears_in_any_output(
    tmp_path: Path, scim2_tenant: str, scim2_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bearer token is in no output, logs at full verbosity included, nor on failure."""
    write(tmp_path, "users.yaml", USERS)
    run = reconciler(
        "apply",
        str(tmp_path),
        "--target",
        scim2_tenant,
        "--auto-approve",
        "-vv",
        "--log-format",
        "json",
    )
    assert run.exit_code == 0, run.stderr
    assert SCIM2_SERVER_TOKEN not in run.stdout + run.stderr
    monkeypatch.setenv("RECONCILER_TOKEN", "wrong-token-value")
    refused = reconciler("plan", str(tmp_path), "--target", scim2_tenant, "-vv")
    assert refused.exit_code == 1
    assert "HTTP 401" in refused.stderr
    assert "wrong-token-value" not in refused.stdout + refused.stderr


def test_missing_token_is_a_clear_error(
    tmp_path: Path, scim2_tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A remote target without its token variable set says which variable to set."""
    monkeypatch.delenv("RECONCILER_TOKEN", raising=False)
    write(tmp_path, "users.yaml", USERS)
    run = reconciler("plan", str(tmp_path), "--target", scim2_tenant)
    assert run.exit_code == 1
    assert "RECONCILER_TOKEN" in run.stderr


@pytest.mark.parametrize(
    ("token", "hint"),
    [
        pytest.param(None, "hint: no token was sent", id="none-sent"),
        pytest.param("wrong-token-value", "hint: the directory refused the token", id="refused"),
    ],
)
def test_the_hint_of_a_401_says_whether_a_token_was_sent(
    tmp_path: Path, scim2_tenant: str, monkeypatch: pytest.MonkeyPatch, token: str | None, hint: str
) -> None:
    """A loopback directory that wants a token it was not given is not said to refuse one."""
    if token is None:
        monkeypatch.delenv("RECONCILER_TOKEN", raising=False)
    else:
        monkeypatch.setenv("RECONCILER_TOKEN", token)
    write(tmp_path, "users.yaml", USERS)
    run = reconciler("plan", str(tmp_path), "--target", scim2_tenant, "--log-format", "console")
    assert run.exit_code == 1
    assert "HTTP 401" in run.stderr
    assert hint in run.stderr
    assert ("refused the token" in run.stderr) is (token is not None)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        pytest.param("http://scim.example.com/v2", "only allowed to loopback", id="plain-http"),
        pytest.param(
            "https://user:pw@scim.example.com/v2", "carries credentials", id="credentials"
        ),
        pytest.param("ftp://scim.example.com", "neither an http(s) URL", id="scheme"),
    ],
)
def test_unsafe_targets_are_refused(tmp_path: Path, target: str, message: str) -> None:
    """Plain http off loopback, credentials in the URL and other schemes are refused."""
    write(tmp_path, "users.yaml", USERS)
    run = reconciler("plan", str(tmp_path), "--target", target)
    assert run.exit_code == 1
    assert message in run.stderr
    assert ":pw@" not in run.stderr  # credentials are never echoed


def test_detailed_exitcode_says_changes_pending(tmp_path: Path) -> None:
    """plan --detailed-exitcode exits 2 while changes are pending and 0 once applied."""
    write(tmp_path, "users.yaml", USERS)
    target = f"sandbox:{tmp_path / 's.db'}"
    assert (
        reconciler("plan", str(tmp_path), "--target", target, "--detailed-exitcode").exit_code == 2
    )
    assert reconciler("apply", str(tmp_path), "--target", target, "--auto-approve").exit_code == 0
    assert (
        reconciler("plan", str(tmp_path), "--target", target, "--detailed-exitcode").exit_code == 0
    )


def test_every_output_says_the_target_is_the_sandbox(tmp_path: Path) -> None:
    """Text and markdown plans name the local sandbox plainly; JSON records sandbox: as target."""
    write(tmp_path, "users.yaml", USERS)
    target = f"sandbox:{tmp_path / 's.db'}"
    for fmt in ("text", "markdown"):
        run = reconciler("plan", str(tmp_path), "--target", target, "--format", fmt)
        assert "sandbox" in run.stdout.lower()
        assert "not a real directory" in run.stdout
    as_json = reconciler("plan", str(tmp_path), "--target", target, "--format", "json").json()
    assert as_json["target"].startswith("sandbox:")


def test_schema_command_prints_the_committed_schema() -> None:
    """reconciler schema prints exactly schemas/desired-state.schema.json."""
    committed = Path(__file__).parents[2] / "schemas" / "desired-state.schema.json"
    assert reconciler("schema").stdout == committed.read_text(encoding="utf-8")


def test_python_dash_m_runs_the_cli() -> None:
    """python -m reconciler is the same command line."""
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert "plan" in result.stdout
    assert "apply" in result.stdout


def test_top_level_help_lists_every_exit_code_and_the_streams() -> None:
    """reconciler --help names all exit codes of the contract, 130 and 143 included."""
    text = " ".join(reconciler("--help").stdout.split())
    for code in ("0 ok", "1 error", "2 changes pending", "3 refused", "4 apply finished"):
        assert code in text
    assert "130 / 143 apply interrupted by Ctrl-C / SIGTERM" in text
    assert "stdout carries only the plan, report or export" in text


def test_apply_help_states_the_default_rate() -> None:
    """apply --help says what --rate defaults to: 10 on Atlassian, no limit on the sandbox."""
    text = " ".join(reconciler("apply", "--help").stdout.split())
    assert "Default: 10 on an Atlassian directory" in text
    assert "no limit on the sandbox, loopback hosts" in text


def test_plan_reads_at_the_rate_it_is_given(tmp_path: Path) -> None:
    """plan --rate R reads at most R requests a second, as apply --rate does; the plan's cost
    names R (a directory that allows more than the dialect's default is read faster)."""
    write(tmp_path, "users.yaml", USERS)
    target = f"sandbox:{tmp_path / 's.db'}"
    run = reconciler("plan", str(tmp_path), "--target", target, "--rate", "42", "--format", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["cost"]["rate"] == 42
    unpaced = reconciler("plan", str(tmp_path), "--target", target, "--format", "json")
    assert unpaced.json()["cost"]["rate"] is None


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["plan", ".", "--format", "xml"], id="bad-choice"),
        pytest.param(["apply", ".", "--concurrency", "0"], id="out-of-range"),
        pytest.param(["plan", ".", "--bogus"], id="unknown-option"),
    ],
)
def test_usage_errors_exit_1_not_2(args: list[str]) -> None:
    """A usage error exits 1: exit 2 means "changes pending" to CI scripts; it reads
    ``error: …`` like every other error, after the usage line."""
    run = reconciler(*args, "--log-format", "console")
    assert run.exit_code == 1
    assert "Usage:" in run.stderr
    assert run.stderr.splitlines()[-1].startswith("error: ")
    assert "Error:" not in run.stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["plan", ".", "--format", "xml"], id="bad-choice"),
        pytest.param(["plan", ".", "--bogus"], id="unknown-option"),
        pytest.param(["plan", ".", "--log-format"], id="no-log-format-value"),
    ],
)
def test_usage_errors_off_a_terminal_are_one_json_event(args: list[str]) -> None:
    """Off a terminal, a usage error is one JSON error event, exit 1, like any other error."""
    run = reconciler(*args)
    assert run.exit_code == 1
    (event,) = [json.loads(line) for line in run.stderr.splitlines()]
    assert (event["event"], event["level"], event["exit_code"]) == ("error", "error", 1)


def test_user_outside_the_files_own_scope_is_a_file_problem(tmp_path: Path) -> None:
    """A user the policy scope puts out of reach is reported by validate, not silently skipped."""
    write(
        tmp_path,
        "users.yaml",
        """
        version: 1
        policy: {users: {scope: ["*@example.com"]}}
        users:
          - userName: bob@other.org
        """,
    )
    run = reconciler("validate", str(tmp_path))
    assert run.exit_code == 1
    assert "users.yaml:4:15: users[0].userName:" in run.stderr
    assert "outside policy.users.scope" in run.stderr


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_validate_refuses_a_link_out_of_the_repository_without_quoting_it(
    tmp_path: Path, log_format: str
) -> None:
    """A link leaving the directory is refused by name, exit 1; nothing of its target is shown."""
    secret = write(tmp_path / "home-x9q", "credentials", "TOPSECRET-7f3a9 is the first line\n")
    repo = tmp_path / "repo"
    write(repo, "users.yaml", USERS)
    (repo / "more.yaml").symlink_to(secret)
    (repo / "team").mkdir()
    (repo / "team" / "creds.json").symlink_to(secret)
    run = reconciler("validate", str(repo), str(repo / "more.yaml"), "--log-format", log_format)
    assert run.exit_code == 1
    assert f"{repo / 'more.yaml'}: symbolic link leads outside {repo}" in run.stderr
    assert f"{repo / 'more.yaml'}: symbolic link leads outside its own directory" in run.stderr
    assert f"{repo / 'team' / 'creds.json'}: symbolic link leads outside {repo}" in run.stderr
    for output in (run.stdout, run.stderr):
        assert "TOPSECRET" not in output
        assert "home-x9q" not in output  # not even the target's path


def test_sandbox_target_needs_a_path(tmp_path: Path) -> None:
    """--target sandbox: with no path is an error, not a silent default."""
    write(tmp_path, "users.yaml", USERS)
    run = reconciler("plan", str(tmp_path), "--target", "sandbox:")
    assert run.exit_code == 1
    assert "sandbox: needs a PATH" in run.stderr


def test_dry_run_report_says_would_apply(tmp_path: Path) -> None:
    """A dry run's report never claims anything was applied."""
    write(tmp_path, "users.yaml", USERS)
    run = reconciler(
        "apply", str(tmp_path), "--target", f"sandbox:{tmp_path / 's.db'}", "--dry-run"
    )
    assert run.exit_code == 0
    assert "would apply" in run.stdout
    assert "Apply:" not in run.stdout
    assert "nothing was sent" in run.stdout


def test_errors_are_json_events_when_logs_are_json(tmp_path: Path) -> None:
    """With --log-format json, an error on stderr is a JSON event, not a stray plain line."""
    write(tmp_path, "users.yaml", USERS)
    run = reconciler("plan", str(tmp_path), "--target", "sandbox:", "--log-format", "json")
    assert run.exit_code == 1
    event, summary = [json.loads(line) for line in run.stderr.splitlines()]
    assert (summary["event"], summary["exit_code"]) == ("summary", 1)
    assert event["event"] == "error"
    assert event["exit_code"] == 1
    assert "sandbox: needs a PATH" in event["message"]


def test_quiet_silences_notes_but_not_errors(tmp_path: Path) -> None:
    """-q leaves stderr empty on success and still reports an error."""
    target = f"sandbox:{tmp_path / 's.db'}"
    ok = reconciler("export", "--target", target, "--out", str(tmp_path / "x"), "-q")
    assert ok.exit_code == 0
    assert ok.stderr == ""
    failed = reconciler("plan", str(tmp_path / "nope"), "-q", "--log-format", "console")
    assert failed.exit_code == 1
    assert "error:" in failed.stderr


def test_plan_out_a_directory_writes_plan_json_there_and_leaves_nothing_else(
    tmp_path: Path,
) -> None:
    """--out DIR saves DIR/plan.json; no temporary file is left beside it."""
    write(tmp_path / "files", "users.yaml", USERS)
    (tmp_path / "plans").mkdir()
    run = reconciler(
        "plan", str(tmp_path / "files"), "--target", f"sandbox:{tmp_path / 's.db'}",
        "--out", str(tmp_path / "plans"),
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert sorted(p.name for p in (tmp_path / "plans").iterdir()) == ["plan.json"]
    assert json.loads((tmp_path / "plans" / "plan.json").read_text())["format_version"] == 1


def test_plan_out_ending_in_a_slash_is_a_directory_created_for_plan_json(
    tmp_path: Path,
) -> None:
    """--out saved/ where saved does not exist creates the directory and saves
    saved/plan.json in it (it used to write a file named saved); the note says where."""
    write(tmp_path / "files", "users.yaml", USERS)
    target = f"sandbox:{tmp_path / 's.db'}"
    out = str(tmp_path / "saved") + "/"
    run = reconciler("plan", str(tmp_path / "files"), "--target", target, "--out", out)
    assert run.exit_code == 0, run.stderr
    assert (tmp_path / "saved").is_dir()
    assert sorted(p.name for p in (tmp_path / "saved").iterdir()) == ["plan.json"]
    assert json.loads((tmp_path / "saved" / "plan.json").read_text())["format_version"] == 1
    notes = [json.loads(line) for line in run.stderr.splitlines()]
    saved = [e["message"] for e in notes if e["event"] == "note" and "Saved" in e["message"]]
    assert saved == [f"Saved the plan to {tmp_path / 'saved' / 'plan.json'}"]


def test_plan_out_a_path_under_a_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    """--out taken/ where taken is a file cannot be a directory: exit 1, saying why,
    and the file is left as it was."""
    write(tmp_path / "files", "users.yaml", USERS)
    (tmp_path / "taken").write_text("mine\n")
    target = f"sandbox:{tmp_path / 's.db'}"
    out = str(tmp_path / "taken") + "/"
    run = reconciler(
        "plan", str(tmp_path / "files"), "--target", target, "--out", out,
        "--log-format", "console",
    )  # fmt: skip
    assert run.exit_code == 1
    assert f"error: cannot write {tmp_path / 'taken' / 'plan.json'}" in run.stderr
    assert (tmp_path / "taken").read_text() == "mine\n"


def test_a_tokenless_sandbox_on_loopback_is_used_without_a_token_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sandbox serve without --token needs none from the client on loopback; a note says
    the requests go without a token. A remote URL without a token is still refused."""
    monkeypatch.delenv("RECONCILER_TOKEN", raising=False)
    write(tmp_path / "files", "users.yaml", USERS)
    stop = threading.Event()
    urls: list[str] = []
    ready = threading.Event()
    thread = threading.Thread(
        target=serve,
        kwargs={
            "db_path": tmp_path / "served.db", "port": 0, "stop": stop,
            "ready": lambda url: (urls.append(url), ready.set()),
        },
    )  # fmt: skip
    thread.start()
    try:
        assert ready.wait(10)
        run = reconciler(
            "plan", str(tmp_path / "files"), "--target", urls[0], "--log-format", "console"
        )
        assert run.exit_code == 0, run.stderr
        assert "RECONCILER_TOKEN is not set: talking to" in run.stderr
        assert "2 to create" in run.stdout
    finally:
        stop.set()
        thread.join(10)
    remote = reconciler("plan", str(tmp_path / "files"), "--target", "https://scim.example/v2")
    assert remote.exit_code == 1
    assert "no token" in remote.stderr


def test_an_attribute_the_atlassian_api_lacks_is_a_file_problem_before_anything_is_read(
    tmp_path: Path,
) -> None:
    """locale and employeeNumber do not exist on Atlassian: plan against an Atlassian
    target names each at its place in the files, exit 1, and opens nothing."""
    write(
        tmp_path / "files",
        "users.yaml",
        """
        version: 1
        users:
          - userName: alice@example.com
            locale: en_GB
            enterprise: {department: R&D, employeeNumber: "17"}
        """,
    )
    run = reconciler("plan", str(tmp_path / "files"), "--target", f"sandbox:{tmp_path / 's.db'}")
    assert run.exit_code == 1
    assert (
        "users.yaml:4:5: users[0].locale: the Atlassian API has no locale attribute" in run.stderr
    )
    assert "users[0].enterprise.employeeNumber: the Atlassian API has no employeeNumber" in (
        run.stderr
    )
    assert "department" not in run.stderr
    assert not (tmp_path / "s.db").exists()


def test_token_with_a_stray_carriage_return_never_appears_in_output(
    tmp_path: Path, scim2_tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token read from a CRLF file (``TOKEN=$(cat token.txt)``) must not be printed.

    Expected (docs/design.md "Safety model": secrets): a clear error that names the
    variable, not its value. Actual: h11 refuses the header with
    ``Illegal header value b'Bearer <token>\\r'``; the client wraps that message into
    a retryable TransportError, so the token is logged in each ``scim.retry`` warning
    and again in the final ``error:`` line on stderr.
    """
    secret = "leak-check-5f3a9c"
    monkeypatch.setenv("RECONCILER_TOKEN", secret + "\r")
    write(tmp_path, "users.yaml", "version: 1\nusers:\n  - userName: a@example.com\n")
    run = reconciler("plan", str(tmp_path), "--target", scim2_tenant, "--log-format", "json")
    assert run.exit_code == 1
    assert secret not in run.stdout + run.stderr


def test_apply_json_output_is_json_even_when_there_is_nothing_to_do(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """``apply --format json > report.json`` always yields a JSON document.

    Expected (docs/design.md "Plan JSON, format version 1": ``--format json > out.json``
    is always clean JSON): an empty report (or the empty plan) on stdout. Actual:
    ``apply`` returns before printing anything when the plan is empty, so stdout is
    empty and ``json.loads`` fails.
    """
    target, _ = sandbox
    files = write(tmp_path / "files", "users.yaml", "version: 1\nusers:\n  - userName: z@e.com\n")
    first = reconciler("apply", str(files), "--target", target, "--auto-approve")
    assert first.exit_code == 0, first.stderr
    run = reconciler("apply", str(files), "--target", target, "--auto-approve", "--format", "json")
    assert run.exit_code == 0, run.stderr
    json.loads(run.stdout)
