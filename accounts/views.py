from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .forms import SignUpForm
from .roles import Role

ROLE_HOME = {
    Role.CUSTOMER: "orders:my_orders",
    Role.WAREHOUSE: "workspace:warehouse",
    Role.SERVICE: "workspace:service",
    Role.MANAGER: "workspace:manager",
    Role.ADMIN: "workspace:system",
}


def home_url_for(user) -> str:
    return reverse(ROLE_HOME.get(user.role, "orders:my_orders"))


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Where a user lands after logging in: their role's home page."""
    return redirect(home_url_for(request.user))


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome! Your account has been created."))
        return redirect("catalog:home")
    return render(request, "registration/signup.html", {"form": form})
