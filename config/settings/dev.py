"""Development and demo: `make run`. Everything embedded unless the environment says otherwise."""

import os

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-never-use-in-production"
DEMO_ACCOUNTS_ALLOWED = True
