"""Tests: PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set, SQLite otherwise."""

from .base import *  # noqa: F403
from .base import DATABASES, VAR_DIR

DEBUG = False
SECRET_KEY = "test-only-key"
DEMO_ACCOUNTS_ALLOWED = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
AXES_ENABLED = False
LANGUAGE_CODE = "en"

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that a real worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
