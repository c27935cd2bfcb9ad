"""The image builds and runs as the CronJob runs it: read-only root, non-root, no caps.

Opt-in: it needs a container runtime and the network (the build installs from the
package index). Set RECONCILER_IMAGE_TEST=1 to run it; .ci/run sets it when
`docker info` answers. Where no runtime is, tests/test_examples.py checks the
Dockerfile and the manifest as files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TAG = "scim-reconciler:test"
TMP = "/tmp"  # noqa: S108 - the container's own tmpfs, as in the CronJob

pytestmark = pytest.mark.skipif(
    os.environ.get("RECONCILER_IMAGE_TEST") != "1",
    reason="RECONCILER_IMAGE_TEST=1 builds and runs the image (needs a container runtime)",
)


def _docker(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    """The image built from the repository's Dockerfile (asked for, so never skipped)."""
    assert shutil.which("docker"), "RECONCILER_IMAGE_TEST=1 but there is no docker"
    built = _docker("build", "--tag", TAG, str(ROOT), timeout=1800)
    assert built.returncode == 0, built.stderr[-4000:]
    yield TAG
    _docker("image", "rm", "--force", TAG)


def _run_like_the_cronjob(
    image: str, *args: str, entrypoint: str = "reconciler"
) -> subprocess.CompletedProcess[str]:
    """The CronJob's constraints: read-only root, uid 10001, no capabilities, writable
    /tmp as HOME, the example's files mounted read-only at /directory."""
    files = ROOT / "examples" / "gitops" / "directory"
    return _docker(
        "run", "--rm", "--read-only", "--tmpfs", f"{TMP}:rw,size=64m",
        "--user", "10001:10001", "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges",
        "--env", f"HOME={TMP}", "--env", f"TMPDIR={TMP}", "--workdir", TMP,
        "--volume", f"{files}:/directory:ro", "--entrypoint", entrypoint,
        image, *args,
    )  # fmt: skip


def test_the_image_runs_as_a_numeric_non_root_user(image: str) -> None:
    """The image's configured user is 10001:10001, the CronJob's runAsUser and group."""
    inspected = _docker("image", "inspect", "--format", "{{.Config.User}}", image)
    assert inspected.stdout.strip() == "10001:10001"


def test_the_image_plans_and_applies_on_a_read_only_root(image: str) -> None:
    """Against a sandbox in /tmp, plan reports changes (exit 2), and apply then a second
    plan find nothing left (exit 0): the tool needs no more than the CronJob gives."""
    target = f"--target sandbox:{TMP}/s.db"
    plan = _run_like_the_cronjob(
        image, "plan", "/directory", *target.split(), "--detailed-exitcode"
    )
    assert plan.returncode == 2, plan.stderr
    assert "grace@example.com" in plan.stdout
    script = (
        f"reconciler apply /directory {target} --auto-approve"
        f" && reconciler plan /directory {target} --detailed-exitcode"
    )
    applied = _run_like_the_cronjob(image, "-c", script, entrypoint="sh")
    assert applied.returncode == 0, applied.stdout + applied.stderr
