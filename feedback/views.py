"""The customer's page to rate a completed order (RPT-5), under /account/feedback/."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.errors import DomainError
from orders.models import Order

from . import services
from .forms import FeedbackForm
from .models import OrderFeedback


@login_required
@require_http_methods(["GET", "POST"])
def leave(request: HttpRequest, number: str) -> HttpResponse:
    order = Order.objects.filter(number=number, customer=request.user).first()
    if order is None:
        raise Http404
    existing = OrderFeedback.objects.filter(order=order).first()
    form = FeedbackForm(request.POST or None)
    if existing is None and request.method == "POST" and form.is_valid():
        try:
            services.leave_feedback(
                order_id=order.pk,
                actor=request.user,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Thank you for rating your order."))
            return redirect("orders:my_order_detail", number=order.number)
    return render(
        request, "feedback/leave.html", {"order": order, "form": form, "existing": existing}
    )
