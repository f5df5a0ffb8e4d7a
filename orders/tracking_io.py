"""Tracking events from outside the shop (FUL-6): staff's CSV upload and carriers' signed pushes.

Both check everything before anything is stored. A CSV file's bad rows are reported by line
number, a push's bad events by their index; a clean file or push is stored in one go through
`shipments.add_tracking_events`, which stores each event once, so sending the same file or
push again adds nothing and says how many events were already known.

A carrier signs each push (`POST /webhooks/carriers/<code>/`) with its `webhook_secret`:
``X-Carrier-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``; see
`sign_carrier_payload`, which the tests and the README's example use too.
"""

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.csv_upload import ImportRefused, header_positions, read_rows

from .models import Carrier, Shipment, TrackingStatus
from .shipments import (
    DESCRIPTION_MAX,
    LOCATION_MAX,
    NewTrackingEvent,
    add_tracking_events,
    normalize_tracking_number,
)

# One request checks and stores the whole file: the limits keep it well within the web
# server's timeout.
IMPORT_MAX_BYTES = 5 * 1024 * 1024
IMPORT_MAX_ROWS = 20_000
# Carriers' clocks run a little ahead of ours at times; an event later than this is a typo.
FUTURE_TOLERANCE = timedelta(minutes=15)
TIME_EXAMPLE = "2025-03-01 14:30"

# Accepted header names for each column (lower-cased, spaces and dashes read as "_").
_COLUMNS = {
    "carrier": {"carrier", "carrier_code"},
    "tracking_number": {"tracking_number", "tracking_no", "tracking", "waybill"},
    "time": {"time", "occurred_at", "datetime"},
    "status": {"status"},
    "location": {"location", "place"},
    "description": {"description", "details"},
}
REQUIRED_COLUMNS = ("carrier", "tracking_number", "time", "status")
HEADER_EXAMPLE = "carrier,tracking_number,time,status,location,description"

# The statuses' Chinese labels as in locale/zh_Hans, for when the translations are not
# compiled (tests, a fresh checkout); the compiled ones are read too (`status_aliases`).
_CHINESE_LABELS = {
    "快递已揽收": TrackingStatus.COLLECTED,
    "已揽收": TrackingStatus.COLLECTED,
    "运输中": TrackingStatus.IN_TRANSIT,
    "派送中": TrackingStatus.OUT_FOR_DELIVERY,
    "已签收": TrackingStatus.DELIVERED,
    "派送异常": TrackingStatus.EXCEPTION,
}


# --- values -----------------------------------------------------------------------------------
def status_aliases() -> dict[str, str]:
    """Status as people write it → its code: the code itself, its English label and its
    Chinese label, compared without case."""
    aliases = {label.casefold(): str(value) for label, value in _CHINESE_LABELS.items()}
    for status in TrackingStatus:
        aliases[status.value] = status.value
        for language in ("en", "zh-hans"):
            with translation.override(language):
                aliases[str(status.label).casefold()] = status.value
    return aliases


def parse_status(text: str, aliases: dict[str, str] | None = None) -> str | None:
    """The status code `text` names, or None."""
    aliases = aliases if aliases is not None else status_aliases()
    key = " ".join(text.split()).casefold()
    return aliases.get(key) or aliases.get(key.replace(" ", "_").replace("-", "_"))


def parse_time(text: str) -> datetime | None:
    """An aware time from ISO 8601 ("2025-03-01T14:30:00+08:00") or "YYYY-MM-DD HH:MM" (also
    with slashes, as spreadsheets write it); a time without offset is the shop's local time.
    None if `text` is not a date with a time of day."""
    text = text.strip()
    parsed = None
    if len(text) > len("2025-03-01"):
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            for pattern in ("%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M"):
                try:
                    parsed = datetime.strptime(text, pattern)
                    break
                except ValueError:
                    continue
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    return parsed


def time_problem(at: datetime, *, now: datetime) -> str:
    """Why `at` cannot be a carrier event's time, or ""."""
    if at > now + FUTURE_TOLERANCE:
        return _("%(time)s is in the future") % {
            "time": timezone.localtime(at).strftime("%Y-%m-%d %H:%M")
        }
    return ""


# --- CSV upload -------------------------------------------------------------------------------
@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass
class TrackingCheck:
    """The outcome of checking a file: events ready to store, or errors (file-level ones have
    line 0)."""

    events: list[NewTrackingEvent] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def is_clean(self) -> bool:
        return not self.errors and bool(self.events)


@dataclass(frozen=True)
class ImportResult:
    created: int
    duplicates: int


def _header_map(header: list[str]) -> dict[str, int]:
    positions = header_positions(header, _COLUMNS)
    missing = [column for column in REQUIRED_COLUMNS if column not in positions]
    if missing:
        raise ImportRefused(
            _("The header row lacks the column(s): %(columns)s. Expected: %(expected)s.")
            % {"columns": ", ".join(missing), "expected": HEADER_EXAMPLE}
        )
    return positions


def read_file(uploaded) -> list[tuple[int, dict[str, str]]]:
    """(line number, {column: text}) for each non-blank row of an uploaded CSV file."""
    return read_rows(
        uploaded, header_map=_header_map, max_bytes=IMPORT_MAX_BYTES, max_rows=IMPORT_MAX_ROWS
    )


def check_rows(
    rows: list[tuple[int, dict[str, str]]], *, now: datetime | None = None
) -> TrackingCheck:
    """Check every row (carrier, shipment of that carrier with that number, time, status,
    lengths) with a fixed number of queries per 1 000 distinct tracking numbers."""
    now = now or timezone.now()
    # By code or by name, without case; inactive carriers too: their parcels still report.
    carriers: dict[str, Carrier] = {}
    for carrier in Carrier.objects.all():
        carriers.setdefault(carrier.name.casefold(), carrier)
        carriers[carrier.code.casefold()] = carrier
    numbers = sorted({normalize_tracking_number(v["tracking_number"]) for _l, v in rows} - {""})
    shipments: dict[tuple[int, str], int] = {}
    for start in range(0, len(numbers), 1000):
        found = Shipment.objects.filter(tracking_number__in=numbers[start : start + 1000])
        for pk, carrier_id, number in found.values_list("pk", "carrier_id", "tracking_number"):
            shipments[(carrier_id, number)] = pk
    aliases = status_aliases()

    check = TrackingCheck()
    for line, values in rows:
        problems = []
        carrier = None
        if not values["carrier"]:
            problems.append(_("no carrier"))
        else:
            carrier = carriers.get(values["carrier"].casefold())
            if carrier is None:
                problems.append(_("unknown carrier “%(carrier)s”") % {"carrier": values["carrier"]})

        shipment_id = None
        number = normalize_tracking_number(values["tracking_number"])
        if not number:
            problems.append(_("no tracking number"))
        elif carrier is not None:
            shipment_id = shipments.get((carrier.pk, number))
            if shipment_id is None:
                problems.append(
                    _("no %(carrier)s shipment has tracking number %(number)s")
                    % {"carrier": carrier.code, "number": number}
                )

        occurred_at = None
        if not values["time"]:
            problems.append(_("no time"))
        else:
            occurred_at = parse_time(values["time"])
            if occurred_at is None:
                problems.append(
                    _("time “%(time)s” is not a date and time such as %(example)s or ISO 8601")
                    % {"time": values["time"], "example": TIME_EXAMPLE}
                )
            elif problem := time_problem(occurred_at, now=now):
                problems.append(problem)
                occurred_at = None

        status = parse_status(values["status"], aliases) if values["status"] else None
        if not values["status"]:
            problems.append(_("no status"))
        elif status is None:
            problems.append(
                _("unknown status “%(status)s”; use one of: %(choices)s")
                % {"status": values["status"], "choices": ", ".join(TrackingStatus.values)}
            )

        location = values.get("location", "")
        description = values.get("description", "")
        if len(location) > LOCATION_MAX:
            problems.append(
                _("the location is longer than %(limit)d characters") % {"limit": LOCATION_MAX}
            )
        if len(description) > DESCRIPTION_MAX:
            problems.append(
                _("the description is longer than %(limit)d characters")
                % {"limit": DESCRIPTION_MAX}
            )

        if problems:
            check.errors.append(RowError(line, "; ".join(problems)))
        elif shipment_id is not None and occurred_at is not None and status is not None:
            check.events.append(
                NewTrackingEvent(
                    shipment_id=shipment_id,
                    occurred_at=occurred_at,
                    status=status,
                    location=location,
                    description=description,
                )
            )
    return check


def import_events(check: TrackingCheck) -> ImportResult:
    """Store the events of a clean file in one transaction (see `add_tracking_events`)."""
    if not check.is_clean:
        raise ImportRefused(_("The file has errors; nothing was imported."))
    results = add_tracking_events(events=check.events)
    created = sum(1 for _event, new in results if new)
    return ImportResult(created=created, duplicates=len(results) - created)


def result_message(result: ImportResult) -> str:
    created = ngettext(
        "%(count)d new tracking event stored",
        "%(count)d new tracking events stored",
        result.created,
    ) % {"count": result.created}
    known = ngettext(
        "%(count)d was already known",
        "%(count)d were already known",
        result.duplicates,
    ) % {"count": result.duplicates}
    return _("%(created)s; %(known)s.") % {"created": created, "known": known}


# --- carrier webhook --------------------------------------------------------------------------
SIGNATURE_HEADER = "X-Carrier-Signature"
# How far a push's signed time may be from ours, either way (seconds).
SIGNATURE_TOLERANCE = 300
PUSH_MAX_EVENTS = 500


class PushRefused(Exception):
    """A carrier push not accepted; nothing was stored. Carries what the problem-details answer
    (RFC 9457) says: HTTP status, a type URI, title, detail and, for a bad body, one error per
    bad event."""

    def __init__(
        self, status: int, kind: str, title: str, detail: str, errors: list[dict] | None = None
    ):
        super().__init__(detail)
        self.status = status
        self.type = f"urn:shop:problem:carrier-webhook:{kind}"
        self.title = title
        self.detail = detail
        self.errors = errors or []


def sign_carrier_payload(secret: str, body: bytes | str, timestamp: int | str) -> str:
    """The hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the carrier's webhook secret: the
    `v1` of the X-Carrier-Signature header."""
    if isinstance(body, str):
        body = body.encode()
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes | str, timestamp: int) -> str:
    """The whole X-Carrier-Signature header value for `body` sent at `timestamp`."""
    return f"t={timestamp},v1={sign_carrier_payload(secret, body, timestamp)}"


def verify_carrier_signature(
    *, secret: str, body: bytes, header: str, now: float | None = None
) -> None:
    """Raise `PushRefused` (401) unless `header` carries a `v1` signature of `body` made with
    `secret` at a time `t` within SIGNATURE_TOLERANCE seconds of `now`. Several `v1` values
    may be sent (while a carrier changes its secret); one matching is enough. The signature is
    checked before the time, so only a holder of the secret learns that its clock is off."""
    now = time.time() if now is None else now
    parts: dict[str, list[str]] = {}
    for item in (header or "").split(","):
        key, _sep, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value.strip())
    timestamps, signatures = parts.get("t", []), [s.lower() for s in parts.get("v1", []) if s]
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not signatures:
        raise _unsigned(
            _("The %(header)s header must read t=<unix seconds>,v1=<hex HMAC-SHA256>.")
            % {"header": SIGNATURE_HEADER}
        )
    expected = sign_carrier_payload(secret, body, timestamps[0])
    matches = [hmac.compare_digest(expected, signature) for signature in signatures]
    if not any(matches):
        raise _unsigned(_("The signature does not match the body and the carrier's secret."))
    if abs(now - int(timestamps[0])) > SIGNATURE_TOLERANCE:
        raise _unsigned(
            _("The signature's time is more than %(seconds)d seconds from ours: send it again.")
            % {"seconds": SIGNATURE_TOLERANCE}
        )


def _unsigned(detail: str) -> PushRefused:
    return PushRefused(401, "bad-signature", _("Signature not accepted"), detail)


def _malformed(detail: str, errors: list[dict] | None = None) -> PushRefused:
    return PushRefused(
        400, "invalid-body", _("The body is not a valid tracking push"), detail, errors
    )


def parse_carrier_push(body: bytes, *, now: datetime | None = None) -> tuple[str, list[dict]]:
    """The tracking number and the checked events ({occurred_at, status, location,
    description}) of a push body; `PushRefused` (400) naming every bad event otherwise."""
    now = now or timezone.now()
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _malformed(_("The body is not JSON in UTF-8.")) from None
    if not isinstance(data, dict):
        raise _malformed(_("The body must be a JSON object."))
    number = data.get("tracking_number")
    events = data.get("events")
    errors = []
    if not isinstance(number, str) or not normalize_tracking_number(number):
        errors.append({"field": "tracking_number", "detail": _("A tracking number is required.")})
    if not isinstance(events, list) or not events:
        errors.append({"field": "events", "detail": _("A non-empty list of events is required.")})
    elif len(events) > PUSH_MAX_EVENTS:
        errors.append(
            {
                "field": "events",
                "detail": _("At most %(limit)d events per push.") % {"limit": PUSH_MAX_EVENTS},
            }
        )
    if errors:
        raise _malformed(_("Required fields are missing or wrong."), errors)

    checked = []
    for index, event in enumerate(events):
        problems = _event_problems(event, now=now)
        errors.extend({"index": index, "field": name, "detail": text} for name, text in problems)
        if not problems:
            checked.append(
                {
                    "occurred_at": datetime.fromisoformat(event["time"]),
                    "status": event["status"],
                    "location": event.get("location") or "",
                    "description": event.get("description") or "",
                }
            )
    if errors:
        raise _malformed(
            ngettext(
                "%(count)d event is not valid; none was stored.",
                "%(count)d events are not valid; none was stored.",
                len({error["index"] for error in errors}),
            )
            % {"count": len({error["index"] for error in errors})},
            errors,
        )
    return normalize_tracking_number(number), checked


def _event_problems(event, *, now: datetime) -> list[tuple[str, str]]:
    if not isinstance(event, dict):
        return [("", _("An event must be a JSON object."))]
    problems = []
    raw_time = event.get("time")
    try:
        at = datetime.fromisoformat(raw_time) if isinstance(raw_time, str) else None
    except ValueError:
        at = None
    if at is None:
        problems.append(("time", _("An ISO 8601 time with its offset is required.")))
    elif timezone.is_naive(at):
        problems.append(("time", _("The time needs its offset, as in 2025-03-01T14:30:00+08:00.")))
    elif problem := time_problem(at, now=now):
        problems.append(("time", problem))
    if event.get("status") not in TrackingStatus.values:
        problems.append(
            (
                "status",
                _("The status must be one of: %(choices)s.")
                % {"choices": ", ".join(TrackingStatus.values)},
            )
        )
    for name, limit in (("location", LOCATION_MAX), ("description", DESCRIPTION_MAX)):
        value = event.get(name, "")
        if value is not None and not isinstance(value, str):
            problems.append((name, _("Must be text.")))
        elif value and len(value) > limit:
            problems.append((name, _("At most %(limit)d characters.") % {"limit": limit}))
    return problems


def receive_carrier_push(
    *, carrier_code: str, body: bytes, signature: str, now: float | None = None
) -> ImportResult:
    """A carrier's signed push of tracking events for one of its parcels (FUL-6): check the
    carrier (active, with a secret: else 404), the signature (401), the body (400: every bad
    event named), the parcel (422), then store the events once each (see
    `add_tracking_events`). Nothing is stored unless all of it is accepted."""
    carrier = (
        Carrier.objects.filter(code=carrier_code, is_active=True)
        .exclude(webhook_secret="")
        .only("pk", "webhook_secret")
        .first()
    )
    if carrier is None:
        raise PushRefused(
            404,
            "unknown-carrier",
            _("Unknown carrier"),
            _("No active carrier “%(code)s” takes tracking pushes here.") % {"code": carrier_code},
        )
    verify_carrier_signature(secret=carrier.webhook_secret, body=body, header=signature, now=now)
    number, events = parse_carrier_push(
        body, now=datetime.fromtimestamp(now, tz=UTC) if now is not None else None
    )
    shipment_id = (
        Shipment.objects.filter(carrier=carrier, tracking_number=number)
        .values_list("pk", flat=True)
        .first()
    )
    if shipment_id is None:
        raise PushRefused(
            422,
            "unknown-shipment",
            _("Unknown tracking number"),
            _("No parcel of this carrier has tracking number %(number)s.") % {"number": number},
        )
    results = add_tracking_events(
        events=[NewTrackingEvent(shipment_id=shipment_id, **event) for event in events]
    )
    created = sum(1 for _event, new in results if new)
    return ImportResult(created=created, duplicates=len(results) - created)
