"""The deployment examples hold the properties their READMEs promise.

The GitHub workflows (examples/gitops) never run a pull request's code where the
directory's key is, install reconciler at a pinned version, serialise the jobs that
write, and grant each job only what it needs. The CronJob (examples/kubernetes) and
the Dockerfile are what operators expect: pinned image, no overlap, bounded resources,
read-only root, non-root user, the token from a Secret. Every reconciler flag they use
exists in today's CLI. The organisation example's README (examples/organisation) runs
as written and shows what its commands print.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from reconciler.cli import main

ROOT = Path(__file__).resolve().parent.parent
GITOPS = ROOT / "examples" / "gitops"
WORKFLOWS = GITOPS / ".github" / "workflows"
REQUIREMENTS = GITOPS / ".github" / "reconciler-requirements.txt"
CRONJOB = ROOT / "examples" / "kubernetes" / "cronjob.yaml"
DOCKERFILE = ROOT / "Dockerfile"

INSTALL = "python -m pip install --no-input -r .github/reconciler-requirements.txt"
# Steps that run reconciler, and so may hold the key: the tool or the base branch's scripts.
_RUNS_RECONCILER = re.compile(r"^(reconciler |bash scripts/(plan|apply-reviewed|drift)\.sh )", re.M)
_SHA = re.compile(r"^[0-9a-f]{40}$")


def _workflow(name: str) -> dict[Any, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _triggers(document: dict[Any, Any]) -> dict[str, Any]:
    """The ``on:`` mapping (YAML 1.1 reads the bare key ``on`` as True)."""
    on = document.get("on", document.get(True))
    return on if isinstance(on, dict) else {str(on): None}


def _jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path in sorted(WORKFLOWS.glob("*.yaml")):
        for name, job in _workflow(path.name)["jobs"].items():
            yield path.name, name, job


def _holds_key(job: dict[str, Any]) -> bool:
    return "secrets." in yaml.safe_dump(job)


def _pr_jobs() -> list[tuple[str, dict[str, Any]]]:
    """The jobs of directory.yaml that run on pull requests."""
    jobs = _workflow("directory.yaml")["jobs"]
    on_pr = "github.event_name == 'pull_request_target'"
    return [(n, j) for n, j in jobs.items() if on_pr in str(j.get("if", ""))]


def _commands(run: str) -> list[list[str]]:
    """The shell commands of a ``run:`` block, one per line, as words (continued lines
    and quotes that span lines joined)."""
    commands: list[list[str]] = []
    pending = ""
    for line in run.replace("\\\n", " ").splitlines():
        pending = f"{pending}\n{line}" if pending else line
        try:
            words = shlex.split(pending, comments=True)
        except ValueError:  # a quote still open: the command goes on
            continue
        if words:
            commands.append(words)
        pending = ""
    assert not pending, f"unbalanced quotes: {pending}"
    return commands


def _reconciler_invocations() -> Iterator[tuple[str, list[str]]]:
    """Every ``reconciler …`` command line in the workflows and the CronJob's args."""
    for workflow, job_name, job in _jobs():
        for step in job["steps"]:
            for words in _commands(step.get("run", "")):
                if words and words[0] == "reconciler":
                    yield f"{workflow}:{job_name}", words[1:]
    yield "cronjob.yaml", _container()["args"]


def _container() -> dict[str, Any]:
    pod = _cronjob()["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert isinstance(container, dict)
    return container


def _cronjob() -> dict[str, Any]:
    document = yaml.safe_load(CRONJOB.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _dockerfile_final_stage() -> list[tuple[str, str]]:
    """The instructions of the Dockerfile's last stage, as (INSTRUCTION, arguments)."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    instructions = [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]
    last_from = max(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    return instructions[last_from:]


# --- the GitOps workflows -------------------------------------------------------------


def test_pull_requests_are_planned_by_the_base_branchs_workflow() -> None:
    """directory.yaml plans on pull_request_target, never on pull_request (which would
    run the pull request's own workflow and scripts with the key)."""
    triggers = _triggers(_workflow("directory.yaml"))
    assert "pull_request_target" in triggers
    assert "pull_request" not in triggers
    assert _pr_jobs()


def test_the_pull_request_is_checked_out_into_pr_without_credentials() -> None:
    """In each pull-request job the workspace is the base branch, and the pull request's
    head goes to pr/ with persist-credentials false; every checkout keeps no token."""
    checked_out = 0
    for name, job in _pr_jobs():
        checkouts = [
            s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout")
        ]
        if not checkouts:
            continue
        checked_out += 1
        base, *others = checkouts
        assert "ref" not in base.get("with", {}), name  # pull_request_target: the base
        assert "path" not in base.get("with", {}), name
        heads = [s for s in others if "pull_request.head" in str(s["with"].get("ref", ""))]
        assert heads, name
        for step in heads:
            assert step["with"]["path"] == "pr", name
        for step in checkouts:
            assert step["with"]["persist-credentials"] is False, name
    assert checked_out >= 2  # validate and plan


def test_nothing_from_the_pull_request_runs_it_is_only_read_by_reconciler() -> None:
    """A run step of a pull-request job mentions pr/ only as reconciler's files to read
    (directly or through the base branch's plan.sh): no script, source, install or
    interpreter is pointed at it; only a keyless job's reconciler runs inside pr/."""
    data_only = re.compile(r"^(reconciler (validate|plan)|bash scripts/plan\.sh) pr/directory( |$)")
    assert any(_holds_key(job) for _, job in _pr_jobs())
    for name, job in _pr_jobs():
        for step in job["steps"]:
            run = step.get("run", "")
            for words in _commands(run):
                line = shlex.join(words)
                if "pr/" in line or words[:1] == ["pr"] or "./pr" in line:
                    assert data_only.match(line), f"{name}: {line}"
            if str(step.get("working-directory", "")).startswith(("pr", "./pr")):
                assert not _holds_key(job), name
                ((command, *_),) = _commands(run)
                assert command == "reconciler", f"{name}: {run}"


def test_reconciler_is_installed_from_the_pinned_requirements_only() -> None:
    """Every install reads the checked-out branch's pinned requirements file (on a pull
    request, the base branch's), and every requirement in it is pinned."""
    installs = [
        (f"{workflow}:{name}", step)
        for workflow, name, job in _jobs()
        for step in job["steps"]
        if "pip" in step.get("run", "")
    ]
    assert installs
    for where, step in installs:
        assert step["run"].strip() == INSTALL, where
        assert "working-directory" not in step, where
    for _, name, job in _jobs():
        if _holds_key(job):
            assert any(step.get("run", "").strip() == INSTALL for step in job["steps"]), name
    lines = [
        line.split("#", 1)[0].strip()
        for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines()
    ]
    requirements = [line for line in lines if line and not line.startswith("-")]
    assert requirements
    for line in requirements:
        pinned = re.fullmatch(
            r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.+!-]*( --hash=sha256:[0-9a-f]{64})*", line
        ) or re.fullmatch(r"[A-Za-z0-9_.-]+ @ git\+https://\S+@[0-9a-f]{40}", line)
        assert pinned, f"not pinned: {line}"


def test_the_key_is_only_in_the_steps_that_run_reconciler_after_the_install() -> None:
    """The secret is in no workflow or job environment and no action's inputs; a step
    that holds it runs reconciler or a base-branch script that does, after the install."""
    for path in sorted(WORKFLOWS.glob("*.yaml")):
        assert "secrets." not in yaml.safe_dump(_workflow(path.name).get("env", {})), path.name
    for workflow, name, job in _jobs():
        where = f"{workflow}:{name}"
        assert "secrets." not in yaml.safe_dump(job.get("env", {})), where
        installed = False
        for step in job["steps"]:
            installed = installed or step.get("run", "").strip() == INSTALL
            assert "secrets." not in yaml.safe_dump(step.get("with", {})), where
            if "secrets." in yaml.safe_dump(step.get("env", {})):
                assert "uses" not in step, where
                assert _RUNS_RECONCILER.search(step["run"]), f"{where}: {step['run']}"
                assert installed, f"{where}: the key before the install"


def test_each_job_asks_for_its_own_permissions_and_the_key_never_meets_a_write() -> None:
    """Workflows grant nothing by default; each job names its permissions; a job holding
    the key has a read-only token and a job that can write holds no key."""
    for path in sorted(WORKFLOWS.glob("*.yaml")):
        assert _workflow(path.name)["permissions"] == {}, path.name
    for workflow, name, job in _jobs():
        where = f"{workflow}:{name}"
        permissions = job["permissions"]
        assert isinstance(permissions, dict), where
        assert permissions, where
        assert set(permissions.values()) <= {"read", "write", "none"}, where
        if _holds_key(job):
            assert "write" not in permissions.values(), where
        if "write" in permissions.values():
            assert not _holds_key(job), where
        assert isinstance(job["timeout-minutes"], int), where


def test_only_githubs_own_actions_run_and_nothing_is_cached() -> None:
    """Every action is one of actions/*, pinned to a major version or a commit, and no
    job uses a cache (pull_request_target shares the base branch's cache scope)."""
    for workflow, name, job in _jobs():
        for step in job["steps"]:
            if "uses" not in step:
                continue
            action, _, ref = step["uses"].partition("@")
            assert action.split("/")[0] == "actions", f"{workflow}:{name}: {action}"
            assert action != "actions/cache", f"{workflow}:{name}"
            assert re.fullmatch(r"v\d+", ref) or _SHA.match(ref), f"{workflow}:{name}: {ref}"
            assert "cache" not in step.get("with", {}), f"{workflow}:{name}"


def test_the_jobs_that_write_to_the_directory_are_serialised_per_target() -> None:
    """Every job that may apply shares one concurrency group named after the target,
    never cancelling the running one; the plan has a group per pull request."""
    groups = set()
    for workflow, name, job in _jobs():
        runs = "\n".join(step.get("run", "") for step in job["steps"])
        if "reconciler apply" in runs or "apply-reviewed.sh" in runs:
            concurrency = job["concurrency"]
            assert "vars.ATLASSIAN_DIRECTORY_ID" in concurrency["group"], f"{workflow}:{name}"
            assert concurrency["cancel-in-progress"] is False, f"{workflow}:{name}"
            groups.add(concurrency["group"])
    assert len(groups) == 1
    plan = _workflow("directory.yaml")["jobs"]["plan"]["concurrency"]
    assert "pull_request.number" in plan["group"]


def test_the_target_is_pinned_by_the_workflows_not_by_the_files() -> None:
    """RECONCILER_TARGET (which wins over target.url) names Atlassian's host in each
    workflow, so a pull request's files cannot send the key elsewhere."""
    for path in sorted(WORKFLOWS.glob("*.yaml")):
        target = _workflow(path.name)["env"]["RECONCILER_TARGET"]
        assert target.startswith("https://api.atlassian.com/scim/directory/"), path.name


def test_the_merge_takes_the_reviewed_plan_only_from_the_pull_request_target_run() -> None:
    """The apply job fetches the reviewed plan from this workflow's pull_request_target
    run, not from whichever run uploaded an artifact of that name."""
    steps = _workflow("directory.yaml")["jobs"]["apply"]["steps"]
    (fetch,) = [s for s in steps if "gh run download" in s.get("run", "")]
    assert '.event == \\"pull_request_target\\"' in fetch["run"]
    assert ".workflow_id == $workflow" in fetch["run"]


def test_every_reconciler_flag_the_examples_use_exists() -> None:
    """Each reconciler command in the workflows and the CronJob names a real subcommand
    and only options it has (no flag that is yet to come)."""
    seen = 0
    for where, words in _reconciler_invocations():
        command = main.commands[words[0]]  # type: ignore[attr-defined]
        assert isinstance(command, click.Command), where
        options = {opt for param in command.params for opt in param.opts}
        for word in words[1:]:
            if word.startswith("-"):
                assert word.split("=", 1)[0] in options, f"{where}: {word}"
        seen += 1
    assert seen >= 3


# --- the CronJob and the image --------------------------------------------------------


def test_the_cronjob_never_overlaps_and_never_retries_blindly() -> None:
    """concurrencyPolicy Forbid, a backoffLimit, and deadlines for the start and the run."""
    spec = _cronjob()["spec"]
    assert _cronjob()["kind"] == "CronJob"
    assert spec["concurrencyPolicy"] == "Forbid"
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0
    assert job["activeDeadlineSeconds"] > 0
    assert spec["startingDeadlineSeconds"] > 0


def test_the_cronjob_image_is_pinned_by_digest() -> None:
    """The image is named by sha256 digest, never by a tag alone."""
    assert re.fullmatch(r"[^@\s]+@sha256:[0-9a-f]{64}", _container()["image"])


def test_the_cronjob_requests_and_limits_its_resources() -> None:
    """CPU and memory are both requested and limited."""
    resources = _container()["resources"]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources[kind]), kind


def test_the_cronjob_runs_read_only_as_the_images_user_with_writable_tmp_and_home() -> None:
    """Read-only root, non-root (the Dockerfile's uid), no privilege escalation, no
    capabilities, no service-account token; HOME and /tmp on a writable emptyDir, the
    files read-only, and a metrics volume at /metrics."""
    pod = _cronjob()["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    container = _container()
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    user = next(args for op, args in _dockerfile_final_stage() if op == "USER")
    assert user == f"{pod['securityContext']['runAsUser']}:{pod['securityContext']['runAsGroup']}"
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    env = {e["name"]: e for e in container["env"]}
    writable = {p for p, m in mounts.items() if not m.get("readOnly")}
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]  # noqa: S108 - the pod's /tmp
    assert env["HOME"]["value"] in writable
    assert mounts["/directory"]["readOnly"] is True
    assert "/metrics" in writable


def test_the_cronjob_takes_the_token_from_a_secret_and_pins_the_target() -> None:
    """The token's variable comes from a secretKeyRef; no variable named like a secret has
    a literal value; RECONCILER_TARGET is set in the manifest."""
    env = {e["name"]: e for e in _container()["env"]}
    assert env["RECONCILER_TOKEN"]["valueFrom"]["secretKeyRef"]["name"]
    for name, entry in env.items():
        if re.search("TOKEN|SECRET|PASSWORD|KEY", name):
            assert "value" not in entry, name
    assert env["RECONCILER_TARGET"]["value"].startswith("https://")


def test_the_dockerfile_runs_reconciler_as_a_numeric_non_root_user() -> None:
    """The final stage's USER is a numeric uid:gid other than 0 (Kubernetes can check
    runAsNonRoot without a name lookup), created there, and the entrypoint is reconciler."""
    final = _dockerfile_final_stage()
    (user,) = [args for op, args in final if op == "USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit()
    assert gid.isdigit()
    assert int(uid) != 0
    assert int(gid) != 0
    runs = " ".join(args for op, args in final if op == "RUN")
    assert f"--uid {uid}" in runs
    assert [args for op, args in final if op == "ENTRYPOINT"] == ['["reconciler"]']
    assert any(op == "ENV" and "PYTHONDONTWRITEBYTECODE=1" in args for op, args in final)
    assert not any(op == "ADD" for op, _ in final)


@pytest.mark.parametrize("name", ["directory.yaml", "drift.yaml"])
def test_the_workflow_jobs_that_need_the_key_run_on_main_only(name: str) -> None:
    """Jobs outside pull requests that hold the key run only on main, in the protected
    environment."""
    for job_name, job in _workflow(name)["jobs"].items():
        if _holds_key(job) and job_name != "plan":
            assert "refs/heads/main" in job["if"], job_name
            assert job["environment"] == "directory", job_name


# --- examples/organisation: the README's walk-through, run ------------------------------

ORGANISATION = ROOT / "examples" / "organisation"
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.M | re.S)


def _walkthrough() -> list[tuple[list[list[str]], list[str]]]:
    """The README's ``sh`` blocks, each with the lines of the ``text`` blocks after it."""
    steps: list[tuple[list[list[str]], list[str]]] = []
    readme = (ORGANISATION / "README.md").read_text(encoding="utf-8")
    for language, body in _FENCE.findall(readme):
        if language == "sh":
            steps.append(([shlex.split(line, comments=True) for line in body.splitlines()], []))
        elif language == "text" and steps:
            steps[-1][1].extend(line.strip() for line in body.splitlines() if line.strip())
    return steps


def test_the_organisation_readme_walks_through_what_its_commands_print(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command of examples/organisation/README.md runs from the repository's root
    as written, and every output line it shows (up to a closing …) is printed: the
    link-on-create mark, the four warnings, the unlink, the apply (exit 4: the taken
    group name) with the default-access group applied but not synced, the links after."""
    from tests.e2e.helpers import reconciler

    shutil.copytree(ORGANISATION, tmp_path / "examples" / "organisation")
    monkeypatch.chdir(tmp_path)
    steps = _walkthrough()
    assert len(steps) == 4
    assert all(shown for _, shown in steps)
    for commands, shown in steps:
        printed = ""
        for words in filter(None, commands):
            assert words[0] == "reconciler"
            run = reconciler(*words[1:])
            assert run.exit_code == (4 if words[1] == "apply" else 0), run.stdout + run.stderr
            printed += run.stdout + run.stderr
        for line in shown:
            assert line.removesuffix("…").strip() in printed, line
