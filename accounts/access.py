"""Role guards for views (SEC-1): every staff view names the roles that may open it."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from .roles import Role


def role_required(*roles: Role) -> Callable:
    """Let in only signed-in users acting in one of `roles`; others are sent to log in
    (anonymous) or refused with 403 (signed in with another role). Admins pass everywhere."""
    allowed = set(roles) | {Role.ADMIN}

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if user.role not in allowed:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.allowed_roles = frozenset(allowed)
        return wrapper

    return decorator


def staff_required(view: Callable) -> Callable:
    return role_required(Role.WAREHOUSE, Role.SERVICE, Role.MANAGER)(view)


def permission_required(*perms: str) -> Callable:
    """Let in only signed-in users holding one of `perms`; others are sent to log in
    (anonymous) or refused with 403 (signed in without any of them)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(request.user.has_perm(perm) for perm in perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
