"""Settings for the HTTP benchmarks: the shop as configured by the environment, plus one
trivial view to measure the server itself against (bench/urls.py)."""

from config.settings.dev import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# The benchmark logs in many customers from one address; the lockout is not what it measures.
AXES_ENABLED = False
