"""Development and demo: `make run`. Everything embedded unless the environment says otherwise."""

import os

from .base import *  # noqa: F403
from .base import env_bool, env_int

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-never-use-in-production"
DEMO_ACCOUNTS_ALLOWED = True
# Short payment deadlines, so that `make run` shows a reminder and an auto-cancel within minutes
# (core.demo seeds two unpaid orders near them).
PAYMENT_DEADLINE_MINUTES = env_int("PAYMENT_DEADLINE_MINUTES", 15)
PAYMENT_REMINDER_MINUTES_BEFORE = env_int("PAYMENT_REMINDER_MINUTES_BEFORE", 5)
