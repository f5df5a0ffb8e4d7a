# Production image: gunicorn serves the app (static files through whitenoise); the same image
# runs the Celery worker and beat (see docker-compose.yml). Configured only by environment.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    VAR_DIR=/app/var

# gettext: msgfmt for compilemessages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so that code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN pip install .

COPY . .

# Production settings refuse to load without a 50+ character SECRET_KEY and a payment gateway:
# throwaway values, for this build step only (they are not kept in the image's environment).
RUN export SECRET_KEY="build-only-throwaway-secret-key-not-used-at-runtime-0123456789" \
        ALLOW_SANDBOX_GATEWAY=true \
    && PYTHON=python bash scripts/compilemessages.sh \
    && python manage.py collectstatic --noinput -v 0

# var/documents exists in the image so that the named volume mounted there (docker-compose.yml)
# starts owned by the app user, who writes the printed batches into it.
RUN useradd --system --create-home --uid 10001 --user-group app \
    && mkdir -p /app/var/documents \
    && chown -R app:app /app/var

USER app

EXPOSE 8000

CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "2", \
     "--access-logfile", "-"]
