"""Complaints and inquiries (AFS-5): a ticket about one order with its thread, status and
assignee; customers see only their own tickets and never the internal notes (SEC-2)."""

import pytest
from django.urls import reverse

from core.models import StaffAction
from notifications.models import Notification, NotificationKind
from tests.factories import UserFactory, make_order
from tickets import services
from tickets.models import Ticket, TicketKind, TicketMessage, TicketStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    return make_order(state="paid")


@pytest.fixture
def agent():
    return UserFactory(role="service")


def open_one(order, subject="Where is my parcel?", kind=TicketKind.INQUIRY):
    return services.open_ticket(
        order_id=order.pk,
        actor=order.customer,
        kind=kind,
        subject=subject,
        body="It has been a week.",
    )


# --- services ---------------------------------------------------------------------------------
def test_a_customer_opens_a_ticket_about_their_order_with_its_first_message(order):
    ticket = open_one(order)

    assert (ticket.order, ticket.customer, ticket.status) == (
        order,
        order.customer,
        TicketStatus.OPEN,
    )
    assert ticket.number == f"T{ticket.pk:08d}"
    [message] = ticket.messages.all()
    assert (message.author, message.body, message.is_internal) == (
        order.customer,
        "It has been a week.",
        False,
    )
    assert not StaffAction.objects.exists()  # a customer's action is not a staff action


def test_nobody_opens_a_ticket_about_someone_elses_order(order):
    stranger = UserFactory(role="customer")

    with pytest.raises(services.TicketNotAllowed):
        services.open_ticket(
            order_id=order.pk, actor=stranger, kind="complaint", subject="x", body="y"
        )
    assert not Ticket.objects.exists()


def test_an_agents_reply_tells_the_customer_after_the_commit(
    order, agent, django_capture_on_commit_callbacks
):
    ticket = open_one(order)

    with django_capture_on_commit_callbacks() as callbacks:
        services.post_message(ticket_id=ticket.pk, actor=agent, body="It left today.")
    assert callbacks  # the message is handed to the workers only once committed

    note = Notification.objects.get(kind=NotificationKind.TICKET_REPLY)
    assert (note.recipient, note.order) == (order.customer, order)
    assert note.context["excerpt"] == "It left today."
    assert note.context["ticket_url"].endswith(reverse("my_tickets:detail", args=[ticket.pk]))
    entry = StaffAction.objects.get()
    assert (entry.action, entry.target_label, entry.actor) == ("ticket.reply", ticket.number, agent)


def test_an_internal_note_tells_nobody(order, agent):
    ticket = open_one(order)

    services.post_message(ticket_id=ticket.pk, actor=agent, body="VIP customer", internal=True)

    assert ticket.messages.get(body="VIP customer").is_internal
    assert not Notification.objects.filter(kind=NotificationKind.TICKET_REPLY).exists()
    assert StaffAction.objects.get().action == "ticket.note"


def test_a_customer_cannot_write_an_internal_note(order):
    ticket = open_one(order)

    message = services.post_message(
        ticket_id=ticket.pk, actor=order.customer, body="psst", internal=True
    )

    assert not message.is_internal


def test_a_stranger_cannot_write_to_a_ticket(order):
    ticket = open_one(order)

    with pytest.raises(services.TicketNotAllowed):
        services.post_message(ticket_id=ticket.pk, actor=UserFactory(role="customer"), body="hi")
    with pytest.raises(services.TicketNotAllowed):
        services.post_message(ticket_id=ticket.pk, actor=UserFactory(role="warehouse"), body="hi")


def test_the_customers_reply_opens_a_waiting_or_resolved_ticket_again(order, agent):
    ticket = open_one(order)
    services.change_status(
        ticket_id=ticket.pk, actor=agent, status=TicketStatus.WAITING, reason="Asked for a photo"
    )

    services.post_message(ticket_id=ticket.pk, actor=order.customer, body="Here it is")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN

    services.change_status(
        ticket_id=ticket.pk, actor=agent, status=TicketStatus.RESOLVED, reason="Refunded"
    )
    services.post_message(ticket_id=ticket.pk, actor=order.customer, body="Not yet received")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolved_at) == (TicketStatus.OPEN, None)


def test_resolving_tells_the_customer_and_keeps_the_reason_internal(order, agent):
    ticket = open_one(order)

    services.change_status(
        ticket_id=ticket.pk, actor=agent, status=TicketStatus.RESOLVED, reason="Parcel found"
    )

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED and ticket.resolved_at is not None
    entry = ticket.messages.get(to_status=TicketStatus.RESOLVED)
    assert (entry.from_status, entry.body, entry.is_internal) == (
        TicketStatus.OPEN,
        "Parcel found",
        True,
    )
    note = Notification.objects.get(kind=NotificationKind.TICKET_RESOLVED)
    assert note.recipient == order.customer
    trail = StaffAction.objects.get(action="ticket.status")
    assert (trail.reason, trail.before, trail.after) == (
        "Parcel found",
        {"status": "open"},
        {"status": "resolved"},
    )


def test_a_status_change_needs_a_reason_and_a_possible_transition(order, agent):
    ticket = open_one(order)

    with pytest.raises(services.TicketNotAllowed, match="why"):
        services.change_status(ticket_id=ticket.pk, actor=agent, status="closed", reason=" ")
    services.change_status(ticket_id=ticket.pk, actor=agent, status="closed", reason="Spam")
    with pytest.raises(services.TicketNotAllowed, match="cannot become"):
        services.change_status(ticket_id=ticket.pk, actor=agent, status="open", reason="Oops")
    with pytest.raises(services.TicketNotAllowed, match="closed"):
        services.post_message(ticket_id=ticket.pk, actor=order.customer, body="Hello?")


def test_only_agents_change_status_or_assign(order):
    ticket = open_one(order)
    for person in (order.customer, UserFactory(role="warehouse"), UserFactory(role="manager")):
        with pytest.raises(services.TicketNotAllowed):
            services.change_status(ticket_id=ticket.pk, actor=person, status="closed", reason="x")
        with pytest.raises(services.TicketNotAllowed):
            services.assign_ticket(ticket_id=ticket.pk, actor=person, assignee=person)


def test_an_agent_takes_a_ticket_or_gives_it_to_another_agent(order, agent):
    colleague = UserFactory(role="service")
    ticket = open_one(order)

    services.assign_ticket(ticket_id=ticket.pk, actor=agent, assignee=agent)
    services.assign_ticket(ticket_id=ticket.pk, actor=agent, assignee=colleague)

    ticket.refresh_from_db()
    assert ticket.assignee == colleague
    assert list(
        ticket.messages.filter(assigned_to__isnull=False).values_list("assigned_to", "is_internal")
    ) == [(agent.pk, True), (colleague.pk, True)]
    last = StaffAction.objects.filter(action="ticket.assign").first()
    assert (last.before, last.after) == ({"assignee": str(agent)}, {"assignee": str(colleague)})
    with pytest.raises(services.TicketNotAllowed):
        services.assign_ticket(
            ticket_id=ticket.pk, actor=agent, assignee=UserFactory(role="warehouse")
        )


# --- customer pages ---------------------------------------------------------------------------
def test_a_customer_opens_a_ticket_from_the_order_page_and_reads_the_thread(client, order, agent):
    client.force_login(order.customer)
    page = client.get(reverse("orders:my_order_detail", args=[order.number]))
    new_url = reverse("my_tickets:new", args=[order.number])
    assert new_url in page.content.decode()

    response = client.post(
        new_url, {"kind": "complaint", "subject": "Broken lid", "body": "The lid is cracked."}
    )

    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("my_tickets:detail", args=[ticket.pk])
    assert ticket.kind == TicketKind.COMPLAINT
    services.post_message(ticket_id=ticket.pk, actor=agent, body="Sorry! A new one is coming.")
    services.post_message(ticket_id=ticket.pk, actor=agent, body="SECRET-NOTE", internal=True)
    services.change_status(ticket_id=ticket.pk, actor=agent, status="waiting", reason="HIDDEN")

    page = client.get(response["Location"]).content.decode()
    assert "The lid is cracked." in page and "Sorry! A new one is coming." in page
    assert "SECRET-NOTE" not in page and "HIDDEN" not in page
    assert str(agent) not in page  # agents' names stay inside the shop

    response = client.post(response["Location"], {"body": "Thanks"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    listing = client.get(reverse("my_tickets:list")).content.decode()
    assert ticket.number in listing


def test_someone_elses_ticket_and_order_answer_404(client, order):
    ticket = open_one(order)
    stranger = UserFactory(role="customer")
    client.force_login(stranger)

    assert client.get(reverse("my_tickets:detail", args=[ticket.pk])).status_code == 404
    assert (
        client.post(reverse("my_tickets:detail", args=[ticket.pk]), {"body": "x"}).status_code
        == 404
    )
    assert client.get(reverse("my_tickets:new", args=[order.number])).status_code == 404
    assert ticket.messages.count() == 1
    assert ticket.number not in client.get(reverse("my_tickets:list")).content.decode()


def test_customer_pages_need_a_login(client, order):
    ticket = open_one(order)
    response = client.get(reverse("my_tickets:detail", args=[ticket.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_customers_list_keeps_its_queries_as_it_grows(
    client, order, django_assert_max_num_queries
):
    client.force_login(order.customer)
    open_one(order)
    url = reverse("my_tickets:list")
    client.get(url)
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    for n in range(5):
        open_one(order, subject=f"Question {n}")
    with django_assert_max_num_queries(len(few)):
        assert client.get(url).status_code == 200


# --- agents' pages ----------------------------------------------------------------------------
def test_the_queue_lists_active_tickets_oldest_first_with_filters(client, agent):
    first = open_one(make_order(state="paid"), subject="First")
    second = open_one(make_order(state="paid"), subject="Second", kind=TicketKind.COMPLAINT)
    done = open_one(make_order(state="paid"), subject="Done")
    services.change_status(ticket_id=done.pk, actor=agent, status="closed", reason="Answered")
    services.assign_ticket(ticket_id=second.pk, actor=agent, assignee=agent)
    client.force_login(agent)
    url = reverse("tickets:queue")

    def listed(query=""):
        return [t.pk for t in client.get(url + query).context["page"].object_list]

    assert listed() == [first.pk, second.pk]
    assert listed("?assignee=mine") == [second.pk]
    assert listed("?assignee=unassigned") == [first.pk]
    assert listed("?kind=complaint") == [second.pk]
    assert listed("?status=closed") == [done.pk]
    assert listed("?status=all") == [first.pk, second.pk, done.pk]


def test_the_queue_keeps_its_queries_as_it_grows(client, agent, django_assert_max_num_queries):
    open_one(make_order(state="paid"))
    client.force_login(agent)
    url = reverse("tickets:queue")
    client.get(url)
    with django_assert_max_num_queries(15) as few:
        client.get(url)
    for _n in range(4):
        ticket = open_one(make_order(state="paid"))
        services.assign_ticket(ticket_id=ticket.pk, actor=agent, assignee=agent)
        services.post_message(ticket_id=ticket.pk, actor=agent, body="On it")
    with django_assert_max_num_queries(len(few)):
        assert client.get(url).status_code == 200


def test_the_ticket_page_keeps_its_queries_as_the_thread_grows(
    client, order, agent, django_assert_max_num_queries
):
    ticket = open_one(order)
    client.force_login(agent)
    url = reverse("tickets:detail", args=[ticket.pk])
    client.get(url)
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    services.assign_ticket(ticket_id=ticket.pk, actor=agent, assignee=agent)
    for n in range(4):
        services.post_message(ticket_id=ticket.pk, actor=agent, body=f"Reply {n}")
        services.post_message(ticket_id=ticket.pk, actor=order.customer, body=f"Answer {n}")
    with django_assert_max_num_queries(len(few)):
        page = client.get(url)
    assert "Reply 3" in page.content.decode()


def test_an_agent_works_a_ticket_through_the_screens(client, order, agent):
    ticket = open_one(order)
    client.force_login(agent)
    detail = reverse("tickets:detail", args=[ticket.pk])

    assert client.post(reverse("tickets:take", args=[ticket.pk])).status_code == 302
    client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "Checking", "internal": "on"})
    client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "It is on its way"})
    client.post(
        reverse("tickets:status", args=[ticket.pk]), {"status": "resolved", "reason": "Shipped"}
    )

    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status) == (agent, TicketStatus.RESOLVED)
    assert list(ticket.messages.values_list("body", "is_internal")) == [
        ("It has been a week.", False),
        ("Taken", True),
        ("Checking", True),
        ("It is on its way", False),
        ("Shipped", True),
    ]
    page = client.get(detail).content.decode()
    assert "Checking" in page and "Shipped" in page
    assert set(
        StaffAction.objects.filter(target_id=str(ticket.pk)).values_list("action", flat=True)
    ) == {"ticket.assign", "ticket.note", "ticket.reply", "ticket.status"}


def test_a_status_change_without_a_reason_is_refused_with_a_message(client, order, agent):
    ticket = open_one(order)
    client.force_login(agent)

    response = client.post(
        reverse("tickets:status", args=[ticket.pk]), {"status": "closed", "reason": ""}, follow=True
    )

    assert response.status_code == 200
    assert list(response.context["messages"])
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


@pytest.mark.parametrize("role", ["customer", "warehouse"])
def test_others_cannot_open_the_agents_pages(client, order, role):
    ticket = open_one(order)
    client.force_login(UserFactory(role=role))

    assert client.get(reverse("tickets:queue")).status_code == 403
    assert client.get(reverse("tickets:detail", args=[ticket.pk])).status_code == 403
    assert client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "x"}).status_code == 403
    assert TicketMessage.objects.count() == 1


def test_managers_may_read_tickets_but_not_answer_them(client, order):
    ticket = open_one(order)
    client.force_login(UserFactory(role="manager"))

    assert client.get(reverse("tickets:queue")).status_code == 200
    page = client.get(reverse("tickets:detail", args=[ticket.pk]))
    assert page.status_code == 200 and reverse("tickets:reply", args=[ticket.pk]) not in (
        page.content.decode()
    )
    assert client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "x"}).status_code == 403


def test_the_open_tickets_card_counts_them_with_the_oldest(order, agent):
    from tickets.selectors import open_ticket_summary

    first = open_one(order)
    open_one(order, subject="Second")
    waiting = open_one(order, subject="Third")
    services.change_status(ticket_id=waiting.pk, actor=agent, status="waiting", reason="Asked")

    assert open_ticket_summary() == (2, first.created_at)
