# One image for web, worker, beat and the one-off migrate/maintenance jobs (docs/deployment.md).
# Build it with the commit it holds (the image has no .git):
#   GIT_SHA=$(git rev-parse HEAD) docker compose build      (or: make image)
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings.production
WORKDIR /app
# curl: the web health check; postgresql-client: pg_dump and pg_restore for `manage.py backup`
# and `restore` (Debian bookworm's client is PostgreSQL 15, as the compose file's server);
# Pango, HarfBuzz and a font for WeasyPrint's PDFs (WeasyPrint's installation notes for Debian).
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl postgresql-client \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# The project's bytecode, compiled once here: PYTHONDONTWRITEBYTECODE (and .dockerignore leaving
# out __pycache__) would otherwise make every process (each web worker, the Celery worker and beat,
# every manage.py job) compile its ~200 modules from source at start, about 0.2 s of CPU each
# (docs/benchmarks.md, "Start-up"). pip compiled the libraries' bytecode as it installed them.
RUN python -m compileall -q .
RUN DJANGO_SECRET_KEY=build DJANGO_ALLOWED_HOSTS=localhost FIELD_ENCRYPTION_KEYS=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY= \
    IDENTIFIER_HASH_KEY=build python manage.py collectstatic --noinput --verbosity 0
# The uploads directory exists, owned by the app user, so the shared media volume starts so too.
RUN useradd --create-home --uid 1000 registry \
    && mkdir -p /app/var/media /app/var/backups \
    && chown -R registry /app/var
# The code version, last so that a new commit rebuilds only this layer.
ARG GIT_SHA
RUN test -n "$GIT_SHA" \
    || { echo 'Build with the commit: GIT_SHA=$(git rev-parse HEAD) docker compose build' >&2; exit 1; }
ENV REGISTRY_CODE_VERSION=$GIT_SHA
USER registry
EXPOSE 8000
# No gunicorn access log: the app logs every request as JSON with its request id (config.log).
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4"]
