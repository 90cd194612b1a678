# The one image of the platform: web (gunicorn), Celery worker and beat run it with different commands.
#   docker build -t techmarket .      (docker-compose.yml builds and wires it)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes. The project declares
# no installable packages (the apps run from /app), so `pip install .` installs exactly the dependencies.
COPY pyproject.toml README.md ./
RUN pip install .

# Only what the application needs (no .venv, database or uploads from the build machine).
COPY manage.py ./
COPY marketplace/ marketplace/
COPY demands/ demands/
COPY listings/ listings/
COPY contracts/ contracts/
COPY brokers/ brokers/
COPY templates/ templates/
COPY static/ static/
COPY locale/ locale/

# Compile the translations (Babel, no GNU gettext in the image) and collect static files with the production
# storage (hashed names + manifest, compressed for whitenoise). The key only satisfies the settings' fail-fast
# check during the build; the running containers get the real one from the environment.
RUN if ls locale/*/LC_MESSAGES/*.po >/dev/null 2>&1; then pybabel compile -d locale -D django; fi \
    && DJANGO_DEBUG=false DJANGO_SECRET_KEY=build-only-key-never-used-at-run-time-0123456789 \
       python manage.py collectstatic --noinput

RUN useradd --system --uid 1000 --home-dir /app app \
    && mkdir -p /app/media \
    && chown -R app:app /app/media
USER app

EXPOSE 8000
# gunicorn reads WEB_CONCURRENCY for its number of workers; scale out with more containers or more workers.
CMD ["gunicorn", "marketplace.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "60"]
