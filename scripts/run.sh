#!/usr/bin/env bash
# `make run`: installs what is missing, prepares the database, static files, translations and
# demo data, then runs the web server, a Celery worker and Celery beat together (Procfile,
# honcho). Ctrl-C stops all three. Everything is embedded unless DATABASE_URL / REDIS_URL are set.
set -euo pipefail
cd "$(dirname "$0")/.."

export PORT=${PORT:-8000}
export SITE_URL=${SITE_URL:-http://127.0.0.1:${PORT}}
# The dev settings for every step and all three processes (wsgi.py defaults to production).
export DJANGO_SETTINGS_MODULE=config.settings.dev
export PYTHONUNBUFFERED=1

scripts/bootstrap.sh

PY=.venv/bin/python
echo "==> Applying database migrations"
"$PY" manage.py migrate --noinput
scripts/compilemessages.sh
echo "==> Collecting static files"
"$PY" manage.py collectstatic --noinput -v 0
echo "==> Loading demo data"
"$PY" manage.py seed_demo

cat <<INFO

  Shop is starting at  http://127.0.0.1:${PORT}/

  Demo accounts (password: demo1234)
    customer@example.com    customer
    warehouse@example.com   warehouse staff
    service@example.com     customer service
    manager@example.com     manager
    admin@example.com       administrator

  Sent e-mail (as admin): http://127.0.0.1:${PORT}/dev/mail/    Health: http://127.0.0.1:${PORT}/healthz
  Press Ctrl-C to stop the web server, the worker and beat.

INFO

exec .venv/bin/honcho start --procfile Procfile --port "$PORT"
