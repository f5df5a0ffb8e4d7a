"""Settings of a real worker started by tests/notifications/test_real_worker.py: the test
settings, with e-mail sent through a channel that can be told to crash the worker."""

from config.settings.test import *  # noqa: F403

NOTIFICATION_CHANNELS = {"email": "tests.notifications.channels.CrashingEmailChannel"}
