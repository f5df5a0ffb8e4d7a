from django.conf import settings

from accounts.roles import Role

from .navigation import items_for


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    role = user.role if user is not None and user.is_authenticated else None
    return {
        "shop_name": settings.SHOP_NAME,
        "workspace_nav": items_for(role) if role else [],
        "show_dev_mail": settings.DEBUG and role == Role.ADMIN,
    }
