"""The client's address behind the shop's own proxies (login lockout, throttles)."""

import pytest
from django.test import RequestFactory, override_settings

from core.http import client_ip

FORWARDED = "6.6.6.6, 203.0.113.7"  # a client-written entry, then what our proxy saw


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, FORWARDED, "10.0.0.2"),  # no proxy: the header is the client's own, ignored
        (1, FORWARDED, "203.0.113.7"),  # our proxy appended the real address last
        (2, "198.51.100.1, 10.0.0.9", "198.51.100.1"),
        (1, "", "10.0.0.2"),
        (3, "203.0.113.7", "203.0.113.7"),  # fewer entries than proxies: the leftmost
    ],
)
def test_the_client_is_counted_from_the_right_of_x_forwarded_for(proxies, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)

    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_ip(request) == expected
