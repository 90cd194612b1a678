"""The settings module read from the environment (STYLE §2.6): zero-configuration development, fail-fast production.

Each case imports ``marketplace.settings`` in a fresh interpreter with exactly the given environment. The optional
.env file is switched off there, so a developer's own .env cannot change the outcome.
"""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]

PROBE = """
import json, environ
environ.Env.read_env = classmethod(lambda cls, *args, **kwargs: None)
from marketplace import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "DEBUG": s.DEBUG,
    "ENGINE": db["ENGINE"], "NAME": str(db["NAME"]), "USER": db.get("USER"), "PASSWORD": db.get("PASSWORD"),
    "HOST": db.get("HOST"), "PORT": db.get("PORT"),
    "CONN_MAX_AGE": db.get("CONN_MAX_AGE"), "CONN_HEALTH_CHECKS": db.get("CONN_HEALTH_CHECKS"),
    "CACHE_BACKEND": s.CACHES["default"]["BACKEND"], "CACHE_LOCATION": s.CACHES["default"].get("LOCATION"),
    "CELERY_BROKER_URL": s.CELERY_BROKER_URL, "CELERY_TASK_ALWAYS_EAGER": s.CELERY_TASK_ALWAYS_EAGER,
    "ALLOWED_HOSTS": s.ALLOWED_HOSTS, "EMAIL_BACKEND": s.EMAIL_BACKEND,
}))
"""

REAL_KEY = "k7#Qm2vX9!pL4rT8wZ1nB6yH3jF5sD0aG-cE_uR"


def load_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(BASE_DIR), **env}
    return subprocess.run(
        [sys.executable, "-c", PROBE], env=clean, cwd=BASE_DIR, capture_output=True, text=True, timeout=60
    )


def loaded(**env: str) -> dict:
    result = load_settings(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "env",
    [
        {"DJANGO_DEBUG": "false"},
        {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": ""},
        {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "django-insecure-dev-key-only-for-the-embedded-setup"},
        {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "too-short"},
    ],
    ids=["missing", "empty", "dev-key", "short"],
)
def test_production_refuses_to_start_without_a_real_secret_key(env):
    result = load_settings(**env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_starts_with_a_real_secret_key():
    settings = loaded(
        DJANGO_DEBUG="false", DJANGO_SECRET_KEY=REAL_KEY, DJANGO_ALLOWED_HOSTS="market.example.cn"
    )

    assert settings["DEBUG"] is False
    assert settings["ALLOWED_HOSTS"] == ["market.example.cn"]


def test_no_environment_gives_the_embedded_development_setup():
    settings = loaded()

    assert settings["DEBUG"] is True
    assert settings["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["NAME"] == str(BASE_DIR / "db.sqlite3")
    assert settings["CACHE_BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert settings["CELERY_BROKER_URL"] == "memory://"
    assert settings["CELERY_TASK_ALWAYS_EAGER"] is True
    assert settings["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_database_url_selects_postgresql_with_persistent_connections():
    settings = loaded(DATABASE_URL="postgres://market:s3cret@db.internal:5433/techmarket")

    assert settings["ENGINE"] == "django.db.backends.postgresql"
    assert (settings["NAME"], settings["USER"], settings["PASSWORD"]) == ("techmarket", "market", "s3cret")
    assert (settings["HOST"], settings["PORT"]) == ("db.internal", 5433)
    assert settings["CONN_MAX_AGE"] == 60
    assert settings["CONN_HEALTH_CHECKS"] is True


def test_conn_max_age_comes_from_the_environment():
    settings = loaded(DATABASE_URL="postgres://postgres@127.0.0.1:5432/techmarket", CONN_MAX_AGE="0")

    assert settings["CONN_MAX_AGE"] == 0


def test_redis_url_configures_the_cache_and_the_broker_and_turns_eager_mode_off():
    settings = loaded(REDIS_URL="redis://redis.internal:6379/2")

    assert settings["CACHE_BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert settings["CACHE_LOCATION"] == "redis://redis.internal:6379/2"
    assert settings["CELERY_BROKER_URL"] == "redis://redis.internal:6379/2"
    assert settings["CELERY_TASK_ALWAYS_EAGER"] is False


def test_celery_broker_url_may_name_another_broker():
    settings = loaded(
        REDIS_URL="redis://redis.internal:6379/2", CELERY_BROKER_URL="redis://queue.internal:6379/0"
    )

    assert settings["CACHE_LOCATION"] == "redis://redis.internal:6379/2"
    assert settings["CELERY_BROKER_URL"] == "redis://queue.internal:6379/0"
    assert settings["CELERY_TASK_ALWAYS_EAGER"] is False


# --- the files that configure deployments: .env.example and docker-compose.yml ---------------------------------


def documented_variables() -> set[str]:
    """The variables listed in the docstring at the top of settings.py."""
    docstring = ast.get_docstring(
        ast.parse((BASE_DIR / "marketplace" / "settings.py").read_text(encoding="utf-8"))
    )
    names = set()
    for line in docstring.splitlines():
        if match := re.match(r"^ {4}([A-Z][A-Z0-9_]*(?: / [A-Z][A-Z0-9_]*)*)\s", line):
            names.update(name.strip() for name in match.group(1).split("/"))
    return names


def variables_read_by_settings() -> set[str]:
    source = (BASE_DIR / "marketplace" / "settings.py").read_text(encoding="utf-8")
    return set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", source))


def env_example() -> tuple[dict[str, str], set[str]]:
    """(active assignments, every variable mentioned including commented-out ones) of .env.example."""
    active, mentioned = {}, set()
    for line in (BASE_DIR / ".env.example").read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line):
            commented, name, value = match.groups()
            mentioned.add(name)
            if not commented:
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                    value = value[1:-1]
                active[name] = value
    return active, mentioned


def test_env_example_lists_every_variable():
    _, mentioned = env_example()

    assert documented_variables() - mentioned == set()
    assert variables_read_by_settings() - mentioned == set()
    assert len(documented_variables()) >= 19


def test_env_example_values_are_the_development_setup():
    active, _ = env_example()
    keys = (
        "DEBUG",
        "ENGINE",
        "CACHE_BACKEND",
        "CELERY_BROKER_URL",
        "CELERY_TASK_ALWAYS_EAGER",
        "EMAIL_BACKEND",
    )

    with_example = loaded(**active)
    defaults = loaded()

    assert {key: with_example[key] for key in keys} == {key: defaults[key] for key in keys}
    assert Path(with_example["NAME"]).name == "db.sqlite3"


def test_compose_runs_every_process_against_postgres_and_redis():
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]

    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    assert services["postgres"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"
    assert "healthcheck" in services["postgres"]
    assert "healthcheck" in services["redis"]
    assert "marketplace.wsgi:application" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "marketplace", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "marketplace", "beat"]
    for name in ("web", "worker", "beat", "migrate"):
        service = services[name]
        assert service["environment"]["DATABASE_URL"].startswith("postgres://")
        assert "@postgres:5432/" in service["environment"]["DATABASE_URL"]
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert service["environment"]["DJANGO_DEBUG"] == "false"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
