"""Problem details (RFC 9457) for every error of the JSON API (API-1).

Every refusal is ``application/problem+json``::

    {"type": "urn:shop:problem:api:<kind>", "title": "...", "status": 422,
     "detail": "...", "instance": "/api/orders", "errors": [{"field": "lines[0].sku",
     "message": "..."}]}

``title``, ``detail`` and the messages are in the language the client asks for
(Accept-Language: zh-Hans or en; LocaleMiddleware picks it). `install` replaces django-ninja's
handlers (validation, 401/403, 404, 429, any other error) with these.
"""

import logging
import math

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from core.errors import DomainError

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:shop:problem:api:"
# Where a parameter comes from, as ninja names it in an error's "loc".
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


class Problem(Exception):
    """Raise to answer with a problem: `status`, `kind` (the type URI's last part), `title`,
    `detail`, optional `errors` and extra `headers` (Retry-After, WWW-Authenticate)."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str,
        errors: list[dict] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


def problem_response(
    request: HttpRequest,
    *,
    status: int,
    kind: str,
    title: str,
    detail: str,
    errors: list[dict] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    body = {
        "type": TYPE_PREFIX + kind,
        "title": str(title),
        "status": status,
        "detail": str(detail),
        "instance": request.path,
    }
    if errors is not None:
        body["errors"] = [
            {"field": str(error["field"]), "message": str(error["message"])} for error in errors
        ]
    response = JsonResponse(
        body, status=status, content_type=CONTENT_TYPE, json_dumps_params={"ensure_ascii": False}
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def from_problem(request: HttpRequest, problem: Problem) -> HttpResponse:
    return problem_response(
        request,
        status=problem.status,
        kind=problem.kind,
        title=problem.title,
        detail=problem.detail,
        errors=problem.errors,
        headers=problem.headers,
    )


def unauthorized(detail: str) -> Problem:
    return Problem(
        401,
        "unauthorized",
        _("Authentication required"),
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


def not_found(request: HttpRequest, detail: str = "") -> HttpResponse:
    return problem_response(
        request,
        status=404,
        kind="not-found",
        title=_("Not found"),
        detail=detail or _("There is nothing at this address for your key."),
    )


# --- validation errors ------------------------------------------------------------------------
def field_path(loc) -> str:
    """ "lines[0].sku" from ninja's ("body", "payload", "lines", 0, "sku")."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        source = parts.pop(0)
        if source == "body" and parts and parts[0] == "payload":
            parts.pop(0)
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "body"


def field_message(error: dict) -> str:
    """The error's message in the request's language (pydantic's own are English only)."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind == "missing":
        return _("This field is required.")
    if kind == "string_too_short":
        if ctx.get("min_length", 1) <= 1:
            return _("This field cannot be empty.")
        return _("At least %(count)s characters.") % {"count": ctx["min_length"]}
    if kind == "string_too_long":
        return _("At most %(count)s characters.") % {"count": ctx.get("max_length")}
    if kind == "too_short":
        return _("At least %(count)s item(s).") % {"count": ctx.get("min_length")}
    if kind == "too_long":
        return _("At most %(count)s items.") % {"count": ctx.get("max_length")}
    if kind in ("string_type", "string_unicode"):
        return _("Enter text.")
    if kind == "string_pattern_mismatch":
        return _("This value does not have the expected form.")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Enter a whole number.")
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        limit = next(iter(ctx.values()), "")
        text = {
            "greater_than_equal": _("Must be %(limit)s or more."),
            "greater_than": _("Must be more than %(limit)s."),
            "less_than_equal": _("Must be %(limit)s or less."),
            "less_than": _("Must be less than %(limit)s."),
        }[kind]
        return text % {"limit": limit}
    if kind in ("decimal_parsing", "decimal_type", "finite_number"):
        return _('Enter an amount as a string such as "12.50".')
    if kind == "decimal_max_places":
        return _("At most %(count)s decimal places.") % {"count": ctx.get("decimal_places")}
    if kind in ("decimal_max_digits", "decimal_whole_digits"):
        return _("The amount is too large.")
    if kind in ("literal_error", "enum"):
        return _("Must be one of: %(choices)s.") % {"choices": ctx.get("expected", "")}
    if kind in ("datetime_parsing", "datetime_type", "datetime_from_date_parsing"):
        return _("Enter an ISO 8601 time such as 2025-03-01T14:30:00+08:00.")
    if kind == "timezone_aware":
        return _("The time needs its offset, as in 2025-03-01T14:30:00+08:00.")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return _("Must be a JSON object.")
    if kind == "list_type":
        return _("Must be a list.")
    if kind in ("bool_type", "bool_parsing"):
        return _("Must be true or false.")
    if kind == "json_invalid":
        return _("The body is not valid JSON.")
    return str(error.get("msg", _("This value is not valid.")))


def invalid_fields(request: HttpRequest, errors: list[dict]) -> HttpResponse:
    """422: the fields named in `errors` ({field, message}) are missing or wrong."""
    return problem_response(
        request,
        status=422,
        kind="validation",
        title=_("The request is not valid"),
        detail=_("Some fields are missing or wrong; nothing was changed."),
        errors=errors,
    )


def validation_problem(request: HttpRequest, errors: list[dict]) -> HttpResponse:
    """422 for ninja's (pydantic's) validation errors, one message per field."""
    return invalid_fields(
        request,
        [
            {"field": field_path(error.get("loc", ())), "message": field_message(error)}
            for error in errors
        ],
    )


# --- handlers ---------------------------------------------------------------------------------
def install(api: NinjaAPI) -> None:
    """Answer every error of `api` with a problem."""

    @api.exception_handler(Problem)
    def _problem(request, exc: Problem):
        return from_problem(request, exc)

    @api.exception_handler(NinjaValidationError)
    def _validation(request, exc: NinjaValidationError):
        return validation_problem(request, exc.errors)

    @api.exception_handler(Throttled)
    def _throttled(request, exc: Throttled):
        wait = math.ceil(exc.wait or 1)
        return problem_response(
            request,
            status=429,
            kind="rate-limited",
            title=_("Too many requests"),
            detail=_("Too many requests with this key; try again in %(seconds)d seconds.")
            % {"seconds": wait},
            headers={"Retry-After": str(wait)},
        )

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request, exc: AuthenticationError):
        return from_problem(
            request,
            unauthorized(
                _("Send your API key as “Authorization: Bearer sk_…” or in the X-API-Key header.")
            ),
        )

    @api.exception_handler(AuthorizationError)
    def _forbidden(request, exc: AuthorizationError):
        return problem_response(
            request,
            status=403,
            kind="forbidden",
            title=_("Not allowed"),
            detail=_("Your API key may not do this."),
        )

    @api.exception_handler(HttpError)
    def _http_error(request, exc: HttpError):
        # ninja's own: a body that is not JSON (400), and the like.
        if exc.status_code == 400:
            detail = _("The body is not valid JSON.")
        else:
            detail = _("The request cannot be answered.")
        return problem_response(
            request,
            status=exc.status_code,
            kind="bad-request" if exc.status_code == 400 else "http-error",
            title=_("The request is not valid"),
            detail=detail,
        )

    @api.exception_handler(Http404)
    def _not_found(request, exc: Http404):
        return not_found(request)

    @api.exception_handler(DomainError)
    def _domain(request, exc: DomainError):
        return problem_response(
            request,
            status=422,
            kind="refused",
            title=_("The request cannot be done"),
            detail=exc.message,
        )

    @api.exception_handler(Exception)
    def _unexpected(request, exc: Exception):
        logger.exception("API error on %s %s", request.method, request.path)
        return problem_response(
            request,
            status=500,
            kind="server-error",
            title=_("Server error"),
            detail=_("Something went wrong on our side; nothing may have been saved. Try again."),
        )
