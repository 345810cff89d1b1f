"""Which code is running: the git commit, recorded with analyses and shown by the health check."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from django.conf import settings


def code_version() -> str:
    """The commit baked into the image at build (REGISTRY_CODE_VERSION, from the GIT_SHA build
    argument: the image holds no .git); outside an image, asked of git; "unknown" if neither."""
    return settings.CODE_VERSION or _git_commit(Path(settings.BASE_DIR))


@functools.cache
def _git_commit(directory: Path) -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
