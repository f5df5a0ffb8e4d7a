"""Settings shared by every environment, read from environment variables (twelve-factor).

With nothing set, everything runs embedded: a SQLite file, a Celery broker on the local file
system and e-mail kept in the database so the demo can show it. Production sets DATABASE_URL,
REDIS_URL (or CELERY_BROKER_URL), SECRET_KEY, ALLOWED_HOSTS and the EMAIL_* variables.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_htmx",
    # Serves the API docs page's Swagger UI from its own static files (no CDN).
    "ninja",
    "core",
    "accounts",
    "catalog",
    "inventory",
    "addresses",
    "orders",
    "promotions",
    "payments",
    "checkout",
    "notifications",
    "fulfillment",
    "aftersales",
    "servicedesk",
    "tickets",
    "feedback",
    "reports",
    "stores",
    "api",
    "webhooks",
    "workspace",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "workspace.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "shop.sqlite3"
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{SQLITE_PATH}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one file: WAL lets readers run beside the
    # writer, IMMEDIATE transactions take the write lock up front instead of failing on
    # upgrade, and the timeout makes a writer wait its turn instead of erroring.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "catalog:home"

# Login throttling (SEC-3): five wrong passwords for one account from one address lock that
# pair out for fifteen minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# The client's address behind our own proxies (X-Forwarded-For), for the lockout and throttles.
AXES_CLIENT_IP_CALLABLE = "core.http.client_ip"
# Reverse proxies in front of the web server that append to X-Forwarded-For (0: none).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Batches of printed documents (FUL-4): PDFs written by the worker and downloaded through the
# web server, so both must see this folder (a shared volume in docker-compose.yml).
DOCUMENTS_DIR = VAR_DIR / "documents"
# Files people upload (after-sales photos): never served from a public address; views check
# who may see each one and stream it.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"

# --- E-mail ---------------------------------------------------------------------------------
# Embedded default: messages are stored in the database and listed at /dev/mail/ (DEBUG only).
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "core.mail.DatabaseEmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Shop <noreply@shop.example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ---------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or os.environ.get(
    "REDIS_URL", "filesystem://"
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    # A broker that needs no server: queues are folders under var/broker/.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # The folder is polled; once a second (kombu's default) lets only a few tasks a second
        # through, which a burst of notifications turns into minutes.
        "polling_interval": 0.1,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# acks_late is set per task, only on idempotent ones (STYLE.md "Background work").
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {
        "task": "core.tasks.record_worker_heartbeat",
        "schedule": timedelta(seconds=30),
    },
    "sweep-cancelled-refunds": {
        "task": "payments.tasks.sweep_cancelled_refunds",
        "schedule": timedelta(minutes=10),
    },
    "purge-stale-guest-carts": {
        "task": "checkout.tasks.purge_stale_guest_carts",
        "schedule": timedelta(hours=24),
    },
    # The notification outbox (SPEC §5): messages whose hand-over to the broker was lost.
    "dispatch-notifications": {
        "task": "notifications.tasks.dispatch_notifications",
        "schedule": timedelta(seconds=30),
    },
    # Deadlines are periodic scans of the database (STYLE.md "Background work"): orders.tasks.
    "send-payment-reminders": {
        "task": "orders.tasks.send_payment_reminders",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},  # ticks queued while no worker ran are dropped
    },
    "cancel-expired-orders": {
        "task": "orders.tasks.cancel_expired_orders",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},  # ticks queued while no worker ran are dropped
    },
    "confirm-delivered-orders": {
        "task": "orders.tasks.confirm_delivered_orders",
        "schedule": timedelta(hours=1),
    },
    "flag-delayed-shipments": {
        "task": "orders.tasks.flag_delayed_shipments",
        "schedule": timedelta(hours=1),
    },
    "check-stock-ledger": {
        "task": "inventory.tasks.check_stock_ledger",
        "schedule": crontab(hour=3, minute=17),
    },
    # Document batches whose hand-over to the worker was lost are sent again; week-old PDFs
    # are deleted (FUL-4).
    "tidy-document-batches": {
        "task": "fulfillment.tasks.tidy_document_batches",
        "schedule": timedelta(minutes=5),
    },
    # Report snapshots of the day, week and month just ended, e-mailed to subscribers (RPT-6).
    "report-snapshots-daily": {
        "task": "reports.tasks.make_scheduled_snapshots",
        "schedule": crontab(hour=1, minute=10),
        "args": ("day",),
    },
    "report-snapshots-weekly": {
        "task": "reports.tasks.make_scheduled_snapshots",
        "schedule": crontab(hour=1, minute=20, day_of_week="mon"),
        "args": ("week",),
    },
    "report-snapshots-monthly": {
        "task": "reports.tasks.make_scheduled_snapshots",
        "schedule": crontab(hour=1, minute=30, day_of_month="1"),
        "args": ("month",),
    },
    # Answers kept for Idempotency-Key retries, past API_IDEMPOTENCY_HOURS (API-1).
    "purge-api-idempotency-records": {
        "task": "api.tasks.purge_idempotency_records",
        "schedule": timedelta(hours=1),
    },
    # Outgoing webhooks (API-2): due retries, lost hand-overs, dead workers' claims.
    "sweep-webhook-deliveries": {
        "task": "webhooks.tasks.sweep_deliveries",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
    # Marketplace imports whose hand-over to the worker was lost, or whose worker died (ORD-12).
    "tidy-store-imports": {
        "task": "stores.tasks.tidy_store_imports",
        "schedule": timedelta(minutes=5),
    },
}

# --- Cache ----------------------------------------------------------------------------------
# Shared by every process of the shop (throttles count across gunicorn workers): Redis when
# there is one, else files under VAR_DIR.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    )
}

# --- Shop -----------------------------------------------------------------------------------
SHOP_NAME = os.environ.get("SHOP_NAME", "Shop")
# The shop's public address, for links in e-mails (they are sent by workers, with no request).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Seconds after which the worker counts as silent on /healthz (informational).
WORKER_HEARTBEAT_STALE_AFTER = env_int("WORKER_HEARTBEAT_STALE_AFTER", 120)
# Demo accounts (password demo1234) exist only where this is on; production refuses them.
DEMO_ACCOUNTS_ALLOWED = False

# --- Payment (ORD-4) -------------------------------------------------------------------------
# The gateway customers pay through: a key of PAYMENT_GATEWAYS. "sandbox" is built in and needs
# no outside service; a real provider is one more class implementing
# payments.gateways.base.PaymentGateway.
PAYMENT_GATEWAYS = {"sandbox": "payments.gateways.sandbox.SandboxGateway"}
PAYMENT_GATEWAY = os.environ.get("PAYMENT_GATEWAY", "sandbox")
# The key the sandbox signs its notifications with (HMAC-SHA256). Taken from the environment;
# by default derived from SECRET_KEY so that a fresh checkout works.
SANDBOX_GATEWAY_SECRET = os.environ.get("SANDBOX_GATEWAY_SECRET", "")
# A notification older (or further in the future) than this many seconds is refused.
PAYMENT_NOTIFICATION_MAX_AGE = env_int("PAYMENT_NOTIFICATION_MAX_AGE", 300)

# --- Checkout ---------------------------------------------------------------------------------
# Guest order lookup (ORD-9): at most this many tries per client address per window.
ORDER_LOOKUP_MAX_TRIES = env_int("ORDER_LOOKUP_MAX_TRIES", 10)
ORDER_LOOKUP_WINDOW_SECONDS = env_int("ORDER_LOOKUP_WINDOW_SECONDS", 900)
# …and at most this many per order number, from all addresses together.
ORDER_LOOKUP_MAX_TRIES_PER_ORDER = env_int("ORDER_LOOKUP_MAX_TRIES_PER_ORDER", 20)
# Coupon codes tried at checkout per client address per window (codes are not to be guessed).
COUPON_TRIES_PER_WINDOW = env_int("COUPON_TRIES_PER_WINDOW", 20)
COUPON_TRIES_WINDOW_SECONDS = env_int("COUPON_TRIES_WINDOW_SECONDS", 900)

# --- Schedules (ORD-5, ORD-10, FUL-6): orders.schedules, run by beat -----------------------
# An unpaid online order is cancelled this many minutes after it was placed (ORD-5)…
PAYMENT_DEADLINE_MINUTES = env_int("PAYMENT_DEADLINE_MINUTES", 30)
# …and its customer reminded once, this many minutes before that.
PAYMENT_REMINDER_MINUTES_BEFORE = env_int("PAYMENT_REMINDER_MINUTES_BEFORE", 10)
# Receipt of a shipped order is confirmed by the system this many days after its last parcel
# was delivered, or handed to the carrier for a parcel with no "delivered" event (ORD-10).
AUTO_CONFIRM_DAYS = env_int("AUTO_CONFIRM_DAYS", 10)
# A parcel not delivered and with no tracking event for this many hours is delayed (FUL-6).
SHIPMENT_DELAY_HOURS = env_int("SHIPMENT_DELAY_HOURS", 48)

# --- Warehouse floor (FUL-1..FUL-7) -------------------------------------------------------------
# Paid orders reach the warehouse's queue by themselves; true holds them there until staff
# release them (in batches on a promotion day, FUL-7).
WAREHOUSE_HOLD_NEW_ORDERS = env_bool("WAREHOUSE_HOLD_NEW_ORDERS", False)
# Orders per pick list when waves are cut in bulk, unless the planner says otherwise.
WAVE_SIZE = env_int("WAVE_SIZE", 50)
# Packing warns when the parcels weigh more than this many percent off the goods' weight.
PACKING_WEIGHT_TOLERANCE_PERCENT = env_int("PACKING_WEIGHT_TOLERANCE_PERCENT", 15)
# Rows locked and handled per transaction, and at most per run (the next run goes on).
SCHEDULE_BATCH_SIZE = env_int("SCHEDULE_BATCH_SIZE", 100)
SCHEDULE_MAX_PER_RUN = env_int("SCHEDULE_MAX_PER_RUN", 5000)
# JSON API (API-1): requests per API key per window ("120/minute", "1000/hour", "10/5second";
# beyond: 429), and hours the first answer to an Idempotency-Key is kept for retries.
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "120/minute")
API_IDEMPOTENCY_HOURS = env_int("API_IDEMPOTENCY_HOURS", 24)
# Outgoing webhooks (API-2; webhooks.conf says what each means).
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_SECRET_GRACE_HOURS = env_int("WEBHOOK_SECRET_GRACE_HOURS", 24)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

if CELERY_BROKER_URL.startswith("filesystem://"):
    for _folder in ("queue", "processed", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
