# Environment for the load test: source it (". bench/load/env.sh") from the repository root.
# The 100,000-patient bench database was seeded with the DEMO keys that config/settings/base.py
# derives from its default SECRET_KEY (_derived_demo_key), so identities only decrypt with those;
# they are computed here by importing base.py with none of the key variables set.
LOAD_DB=${LOAD_DB:-il2ld_load}
export DJANGO_SETTINGS_MODULE=bench.load.settings_load
# Deliberately not taken from an existing DATABASE_URL: the driver migrates the database and creates
# users in it, so it must be the load-test copy, never il2ld_bench (shared) or a working database.
case "$LOAD_DB" in il2ld_bench) echo "refusing to load-test il2ld_bench: make a copy (see README)" >&2; return 1 2>/dev/null || exit 1;; esac
# `make bench` passes its own database (LOAD_DATABASE_URL, a database of the bench's own).
export DATABASE_URL=${LOAD_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/$LOAD_DB}
export DATABASE_ADMIN_URL=${LOAD_DATABASE_ADMIN_URL:-}
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
export DJANGO_SECURE_SSL_REDIRECT=false
export DJANGO_LOG_LEVEL=${DJANGO_LOG_LEVEL:-WARNING}
_demo_keys=$(env -u DJANGO_SETTINGS_MODULE -u DJANGO_SECRET_KEY -u FIELD_ENCRYPTION_KEYS -u IDENTIFIER_HASH_KEY \
  .venv/bin/python -c "import config.settings.base as b; print(b.FIELD_ENCRYPTION_KEYS[0], b.IDENTIFIER_HASH_KEY)" 2>/dev/null)
export FIELD_ENCRYPTION_KEYS=${_demo_keys%% *}
export IDENTIFIER_HASH_KEY=${_demo_keys##* }
unset _demo_keys
# A random secret per run: sessions need one, the data does not depend on it.
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-$(.venv/bin/python -c "import secrets; print(secrets.token_urlsafe(50))")}
