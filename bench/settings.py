"""Settings of the benchmarks: the production settings (DEBUG off, persistent connections), except that static
files are served by the plain storage, so the website renders without running collectstatic first."""

from marketplace.settings import *  # noqa: F403

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
