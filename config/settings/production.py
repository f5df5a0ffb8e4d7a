"""Production: PostgreSQL, Redis, real SMTP, HTTPS. Every secret comes from the environment."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool, env_int

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random string of 50+ characters.")
DEMO_ACCOUNTS_ALLOWED = False

# The sandbox gateway takes no money: anyone could mark their order paid. A real site names a
# real provider; a staging site says out loud that it runs on the sandbox.
if PAYMENT_GATEWAY == "sandbox" and not env_bool("ALLOW_SANDBOX_GATEWAY", False):  # noqa: F405
    raise ImproperlyConfigured(
        "PAYMENT_GATEWAY is the sandbox, which takes no money. Configure a real gateway, or "
        "set ALLOW_SANDBOX_GATEWAY=true on a staging or demo site."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind N reverse proxies, login throttling and the lookup throttle must key on the client's
# address from X-Forwarded-For, not on the proxy's (else one attacker locks everyone out).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# /healthz is probed over plain HTTP inside the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
