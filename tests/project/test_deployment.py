"""The image and the compose stack, checked statically (these machines have a docker client, no daemon).

What they promise: no secret, history or local state in the image; pg_dump and pg_restore in it;
the commit baked in; web and worker share the uploads; every long-running service has a
health check; the app runs as its own database role and only the migrate job holds the owner's.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path, PurePosixPath

import pytest
import yaml

from config.settings import base as deployed_settings  # MEDIA_ROOT as deployed: the tests move theirs

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING = ("postgres", "redis", "web", "worker", "beat")
DOCKERFILE = (ROOT / "Dockerfile").read_text()
IGNORED = [
    line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip() and line[0] != "#"
]
APP_DIR = PurePosixPath("/app")  # the Dockerfile's WORKDIR: BASE_DIR inside the image


def ignored_by_docker(path: str) -> bool:
    """Whether the build context leaves `path` out: a pattern matches it or a folder above it."""
    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[: depth + 1]) for depth in range(len(parts))]
    patterns = [pattern.rstrip("/") for pattern in IGNORED if not pattern.startswith("!")]
    return any(
        fnmatch.fnmatch(candidate, pattern) or fnmatch.fnmatch(candidate, pattern.removeprefix("**/"))
        for candidate in candidates
        for pattern in patterns
    )


def environment(service: str) -> dict[str, str]:
    return {name: str(value) for name, value in (SERVICES[service].get("environment") or {}).items()}


def env_files(service: str) -> list[str]:
    files = SERVICES[service].get("env_file") or []
    return [files] if isinstance(files, str) else list(files)


def mounts(service: str) -> dict[str, str]:
    """Container path -> source (a named volume or a host path) of the service's volumes."""
    return {spec.split(":")[1]: spec.split(":")[0] for spec in SERVICES[service].get("volumes", [])}


@pytest.mark.parametrize(
    "path",
    [".env", "registry.env", ".git/HEAD", "var/db.sqlite3", "var/media/up.zip", ".venv/bin/python", "backups/x.dump"],
)
def test_the_image_leaves_out_secrets_history_and_local_state(path):
    assert ignored_by_docker(path)


@pytest.mark.parametrize("path", ["manage.py", "registry/models.py", "requirements.txt", "templates/base.html"])
def test_the_image_keeps_the_code(path):
    assert not ignored_by_docker(path)


def test_the_dockerfile_copies_only_the_build_context_and_requirements():
    copies = re.findall(r"^(?:COPY|ADD)\s+(.+)$", DOCKERFILE, flags=re.MULTILINE)
    assert copies == ["requirements.txt .", ". ."]


def test_the_image_has_pg_dump_and_pg_restore_for_the_backup_command():
    installs = " ".join(re.findall(r"apt-get install[^&]*", DOCKERFILE))
    assert "postgresql-client" in installs.split()


def test_the_image_has_the_system_libraries_weasyprint_loads():
    assert "weasyprint" in (ROOT / "requirements.txt").read_text()
    installs = " ".join(re.findall(r"apt-get install[^&]*", DOCKERFILE))
    assert {"libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0"} <= set(installs.split())


def test_the_image_holds_the_projects_bytecode_compiled_after_copying_the_code():
    """The image runs with PYTHONDONTWRITEBYTECODE and the build context has no __pycache__: unless
    the build compiles the code, every process compiles it from source at start (test_startup)."""
    steps = re.findall(r"^(COPY|ADD|RUN)\s+(.+)$", DOCKERFILE, flags=re.MULTILINE)
    code_copied = steps.index(("COPY", ". ."))
    assert ("RUN", "python -m compileall -q .") in steps[code_copied + 1 :]


def test_the_image_bakes_in_the_commit_it_was_built_from_and_refuses_to_build_without_it():
    assert re.search(r"^ARG GIT_SHA$", DOCKERFILE, flags=re.MULTILINE)
    assert re.search(r'^RUN test -n "\$GIT_SHA"', DOCKERFILE, flags=re.MULTILINE)
    assert re.search(r"^ENV REGISTRY_CODE_VERSION=\$GIT_SHA$", DOCKERFILE, flags=re.MULTILINE)
    assert all(SERVICES[name]["build"]["args"]["GIT_SHA"] == "${GIT_SHA:-}" for name in APP_SERVICES)


def test_the_compose_stack_runs_a_migrate_job_and_five_long_running_services():
    assert set(SERVICES) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert "manage.py migrate" in " ".join(SERVICES["migrate"]["command"])
    assert "beat" in SERVICES["beat"]["command"]


@pytest.mark.parametrize("service", LONG_RUNNING)
def test_each_long_running_service_has_a_health_check(service):
    assert SERVICES[service]["healthcheck"]["test"]


@pytest.mark.parametrize("service", ["worker", "beat"])
def test_worker_and_beat_are_checked_by_their_heartbeats(service):
    assert SERVICES[service]["healthcheck"]["test"] == ["CMD", "python", "-m", "config.health", service]


def test_the_web_health_check_asks_the_health_endpoint():
    assert "http://localhost:8000/healthz" in SERVICES["web"]["healthcheck"]["test"]


def test_web_and_worker_share_one_media_volume_at_the_media_root():
    media_root = str(APP_DIR / deployed_settings.MEDIA_ROOT.relative_to(deployed_settings.BASE_DIR))
    assert mounts("web")[media_root] == mounts("worker")[media_root] == "media"
    assert "media" in COMPOSE["volumes"]


@pytest.mark.parametrize("service", ["web", "worker", "beat"])
def test_the_app_starts_after_the_migrate_job_succeeded(service):
    assert SERVICES[service]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_app_connects_as_its_own_role(service):
    assert environment(service)["DATABASE_URL"].startswith("postgres://registry_app:")


def test_only_the_migrate_job_holds_the_owners_url():
    holders = [name for name in SERVICES if "DATABASE_ADMIN_URL" in environment(name)]
    assert holders == ["migrate"]
    assert environment("migrate")["DATABASE_ADMIN_URL"].startswith("postgres://registry_owner:")


@pytest.mark.parametrize("secret", ["POSTGRES_PASSWORD", "REGISTRY_DB_OWNER_PASSWORD"])
@pytest.mark.parametrize("service", ["web", "worker", "beat"])
def test_the_running_app_never_sees_the_superuser_or_owner_password(service, secret):
    assert not any(secret in value for value in environment(service).values())
    assert ".env" not in env_files(service)  # compose's own file, which holds them, is never given whole


def test_the_database_starts_with_the_owner_and_app_roles():
    postgres = mounts("postgres")
    assert postgres["/docker-entrypoint-initdb.d"] == "./deploy/postgres/initdb"
    assert postgres["/registry/roles.sql"] == "./deploy/postgres/roles.sql"
    assert (environment("postgres")["REGISTRY_DB_OWNER"], environment("postgres")["REGISTRY_DB_APP"]) == (
        "registry_owner",
        "registry_app",
    )
    init = (ROOT / "deploy/postgres/initdb/10-registry-roles.sh").read_text()
    assert "-f /registry/roles.sql" in init
