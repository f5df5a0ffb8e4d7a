"""Complaints and inquiries (AFS-5): the agents' queue and a ticket's page with its thread,
reply, assignment and status forms; the customer's list, opening form and thread.

A customer sees only their own tickets: anyone else's answers 404 (SEC-2)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError
from orders.models import Order

from . import selectors, services
from .forms import (
    AgentReplyForm,
    AssignForm,
    CustomerReplyForm,
    OpenTicketForm,
    QueueFilterForm,
    StatusForm,
)

PAGE_SIZE = 25
VIEW_PERMISSION = "tickets.view_ticket"


def _first_error(form) -> str:
    for errors in form.errors.values():
        return errors[0]
    return _("Please check the form.")


# --- agents -----------------------------------------------------------------------------------
@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """Tickets oldest first with their age, filtered by status, assignee and kind."""
    form = QueueFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    tickets = selectors.agent_queue(
        agent=request.user,
        status=data.get("status") or selectors.STATUS_ACTIVE,
        assignee=data.get("assignee", ""),
        kind=data.get("kind", ""),
    )
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "tickets/queue.html",
        {"form": form, "page": page, "params": query.urlencode(), "now": timezone.now()},
    )


def _staff_ticket(pk: int):
    ticket = selectors.staff_ticket(ticket_id=pk)
    if ticket is None:
        raise Http404
    return ticket


def _render_detail(request, ticket, *, reply_form=None, assign_form=None, status_form=None):
    return render(
        request,
        "tickets/detail.html",
        {
            "ticket": ticket,
            "thread": selectors.thread(ticket, internal=True),
            "may_answer": services.may_answer(request.user),
            "reply_form": reply_form or AgentReplyForm(),
            "assign_form": assign_form or AssignForm(initial={"assignee": ticket.assignee_id}),
            "status_form": status_form or StatusForm(initial={"status": ticket.status}),
            "now": timezone.now(),
        },
    )


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _staff_ticket(pk))


def _act(request, ticket, form, action, success: str) -> HttpResponse:
    """Run `action(form.cleaned_data)` for a valid form: a message and back to the ticket,
    or the page again with the form's errors or the refusal."""
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, success)
            return redirect("tickets:detail", pk=ticket.pk)
    else:
        messages.error(request, _first_error(form))
    return redirect("tickets:detail", pk=ticket.pk)


@login_required
@permission_required(services.ANSWER_PERMISSION, raise_exception=True)
@require_POST
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _staff_ticket(pk)
    form = AgentReplyForm(request.POST)
    internal = request.POST.get("internal") == "on"
    return _act(
        request,
        ticket,
        form,
        lambda data: services.post_message(
            ticket_id=ticket.pk, actor=request.user, body=data["body"], internal=data["internal"]
        ),
        _("Internal note added.") if internal else _("Reply sent to the customer."),
    )


@login_required
@permission_required(services.ANSWER_PERMISSION, raise_exception=True)
@require_POST
def take(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _staff_ticket(pk)
    try:
        services.assign_ticket(ticket_id=ticket.pk, actor=request.user, assignee=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Ticket %(number)s is yours now.") % {"number": ticket.number})
    return redirect("tickets:detail", pk=ticket.pk)


@login_required
@permission_required(services.ANSWER_PERMISSION, raise_exception=True)
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _staff_ticket(pk)
    return _act(
        request,
        ticket,
        AssignForm(request.POST),
        lambda data: services.assign_ticket(
            ticket_id=ticket.pk, actor=request.user, assignee=data["assignee"]
        ),
        _("Ticket assigned."),
    )


@login_required
@permission_required(services.ANSWER_PERMISSION, raise_exception=True)
@require_POST
def change_status(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _staff_ticket(pk)
    return _act(
        request,
        ticket,
        StatusForm(request.POST),
        lambda data: services.change_status(
            ticket_id=ticket.pk, actor=request.user, status=data["status"], reason=data["reason"]
        ),
        _("Status changed."),
    )


# --- customers --------------------------------------------------------------------------------
@login_required
@require_GET
def my_tickets(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.customer_tickets(customer=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "tickets/my_tickets.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def my_ticket_new(request: HttpRequest, number: str) -> HttpResponse:
    """Open a complaint or inquiry from the customer's own order page."""
    order = Order.objects.filter(number=number, customer=request.user).first()
    if order is None:
        raise Http404
    form = OpenTicketForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.open_ticket(
                order_id=order.pk,
                actor=request.user,
                kind=form.cleaned_data["kind"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("We have your message (%(number)s) and will answer soon.")
                % {"number": ticket.number},
            )
            return redirect("my_tickets:detail", pk=ticket.pk)
    return render(request, "tickets/my_ticket_new.html", {"order": order, "form": form})


def _own_ticket(request: HttpRequest, pk: int):
    ticket = selectors.customer_ticket(customer=request.user, ticket_id=pk)
    if ticket is None:
        raise Http404
    return ticket


@login_required
@require_http_methods(["GET", "POST"])
def my_ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer's thread (without the internal notes) and their reply form."""
    ticket = _own_ticket(request, pk)
    form = CustomerReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.post_message(
                ticket_id=ticket.pk, actor=request.user, body=form.cleaned_data["body"]
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your reply is sent."))
            return redirect("my_tickets:detail", pk=ticket.pk)
    return render(
        request,
        "tickets/my_ticket_detail.html",
        {"ticket": ticket, "thread": selectors.thread(ticket, internal=False), "form": form},
    )
