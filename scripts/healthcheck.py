"""Container health check: exits 0 when GET /healthz answers 200.

Sends the first entry of ALLOWED_HOSTS as the Host header (so Django accepts the request) and
X-Forwarded-Proto: https (so production settings do not redirect it to HTTPS).
Usage: python scripts/healthcheck.py [URL]   (default http://127.0.0.1:8000/healthz)
"""

import os
import sys
import urllib.request


def main() -> int:
    url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/healthz"
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = hosts[0].lstrip(".") if hosts and hosts[0] != "*" else "localhost"
    request = urllib.request.Request(url, headers={"Host": host, "X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return 0 if response.status == 200 else 1
    except Exception as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
