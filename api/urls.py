"""The JSON API (API-1), mounted at /api/: the operations, /api/openapi.json and /api/docs.

Every answer that is not a success is a problem (RFC 9457): ninja's plain-text 405 is turned
into one here, and any other address under /api/ is a problem-details 404, not the site's HTML
page."""

from functools import wraps

from django.http import HttpResponseNotAllowed
from django.urls import re_path
from django.utils.translation import gettext as _

from . import problems
from .views import api, not_found_view

app_name = "api"


def _problem_for_wrong_method(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            return problems.problem_response(
                request,
                status=405,
                kind="method-not-allowed",
                title=_("Method not allowed"),
                detail=_("This address does not take %(method)s.") % {"method": request.method},
                headers={"Allow": response["Allow"]},
            )
        return response

    return wrapper


_operations = api.urls[0]
for _pattern in _operations:
    _pattern.callback = _problem_for_wrong_method(_pattern.callback)

urlpatterns = [*_operations, re_path(r"^(?P<path>.*)$", not_found_view, name="not_found")]
