"""The after-sales screens (AFS-2 to AFS-4, SEC-2): the customer's requests and the agents'
desk, through HTTP; each customer sees only their own; lists stay constant in queries."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.roles import Role
from aftersales import services
from aftersales.models import AfterSalesRequest, RequestKind, RequestState
from orders.models import OrderState
from payments.models import Refund
from tests.factories import SKUFactory, UserFactory, make_order

from .test_flow import JPEG, agent, carrier, paid_online_order, submit

pytestmark = pytest.mark.django_db


def detail_url(request, *, staff=False):
    name = "aftersales:detail" if staff else "my_aftersales:detail"
    return reverse(name, args=[request.number])


# --- customer ---------------------------------------------------------------------------------
def test_the_order_page_offers_a_request_for_shipped_orders_only(client):
    shipped = make_order(state=OrderState.SHIPPED)
    client.force_login(shipped.customer)
    page = client.get(reverse("orders:my_order_detail", args=[shipped.number]))
    assert reverse("my_aftersales:new", args=[shipped.number]) in page.content.decode()

    paid = make_order(state=OrderState.PAID, customer=shipped.customer)
    page = client.get(reverse("orders:my_order_detail", args=[paid.number]))
    assert reverse("my_aftersales:new", args=[paid.number]) not in page.content.decode()


def test_a_customer_starts_a_request_with_a_photo_and_follows_it(client):
    order = make_order(state=OrderState.SHIPPED, quantities=[2])
    line = order.lines.get()
    client.force_login(order.customer)
    url = reverse("my_aftersales:new", args=[order.number])
    assert client.get(url).status_code == 200

    response = client.post(
        url,
        {
            "kind": RequestKind.RETURN_REFUND,
            "reason": "damaged",
            "description": "Cracked",
            f"line_{line.pk}": "1",
            "photos": [SimpleUploadedFile("crack.jpg", JPEG, content_type="image/jpeg")],
        },
    )

    request = AfterSalesRequest.objects.get()
    assert response.status_code == 302
    assert response.url == detail_url(request)
    page = client.get(detail_url(request))
    text = page.content.decode()
    assert request.number in text and "Cracked" in text
    photo = request.photos.get()
    assert reverse("my_aftersales:photo", args=[photo.pk]) in text
    assert reverse("my_aftersales:withdraw", args=[request.number]) in text
    served = client.get(reverse("my_aftersales:photo", args=[photo.pk]))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert b"".join(served.streaming_content) == JPEG


def test_a_photo_that_is_not_an_image_is_refused_with_a_message(client):
    order = make_order(state=OrderState.SHIPPED)
    client.force_login(order.customer)
    response = client.post(
        reverse("my_aftersales:new", args=[order.number]),
        {
            "kind": RequestKind.REFUND_ONLY,
            "reason": "damaged",
            f"line_{order.lines.get().pk}": "1",
            "photos": [SimpleUploadedFile("x.png", b"GIF89a....", content_type="image/png")],
        },
    )
    assert response.status_code == 200
    assert "is not a JPEG, PNG or WebP image" in response.content.decode()
    assert not AfterSalesRequest.objects.exists()


def test_asking_for_more_than_was_bought_is_refused_on_the_form(client):
    order = make_order(state=OrderState.SHIPPED)
    client.force_login(order.customer)
    response = client.post(
        reverse("my_aftersales:new", args=[order.number]),
        {"kind": RequestKind.REFUND_ONLY, "reason": "damaged", f"line_{order.lines.get().pk}": "2"},
    )
    assert response.status_code == 200
    assert not AfterSalesRequest.objects.exists()


def test_a_customer_sees_only_their_own_requests(client):
    mine = submit(make_order(state=OrderState.SHIPPED))
    theirs = submit(make_order(state=OrderState.SHIPPED))
    photo_of_theirs = services.RequestPhoto.objects.create(
        request=theirs, image="aftersales/x.jpg", content_type="image/jpeg", size=1
    )
    client.force_login(mine.customer)

    listing = client.get(reverse("my_aftersales:list")).content.decode()
    assert mine.number in listing and theirs.number not in listing
    assert client.get(detail_url(theirs)).status_code == 404
    assert client.get(reverse("my_aftersales:detail", args=["AS99999999"])).status_code == 404
    assert client.get(reverse("my_aftersales:detail", args=["junk"])).status_code == 404
    assert client.post(reverse("my_aftersales:withdraw", args=[theirs.number])).status_code == 404
    assert client.get(reverse("my_aftersales:photo", args=[photo_of_theirs.pk])).status_code == 404
    other_order = theirs.order.number
    assert client.get(reverse("my_aftersales:new", args=[other_order])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == RequestState.SUBMITTED


def test_guests_are_sent_to_log_in(client):
    request = submit(make_order(state=OrderState.SHIPPED))
    response = client.get(detail_url(request))
    assert response.status_code == 302 and "login" in response.url


def test_the_customer_withdraws_and_enters_a_return_parcel(client):
    order = make_order(state=OrderState.SHIPPED, quantities=[2])
    client.force_login(order.customer)
    first = submit(order, quantities=(1,))
    client.post(reverse("my_aftersales:withdraw", args=[first.number]))
    first.refresh_from_db()
    assert first.state == RequestState.WITHDRAWN

    second = submit(order, quantities=(1,))
    services.approve_request(request_id=second.pk, actor=agent(), reason="ok")
    carrier()
    page = client.get(detail_url(second)).content.decode()
    assert reverse("my_aftersales:return_shipment", args=[second.number]) in page
    bad = client.post(
        reverse("my_aftersales:return_shipment", args=[second.number]),
        {"carrier": "SBX", "tracking_number": "x1"},
        follow=True,
    )
    assert "not a tracking number" in bad.content.decode()
    client.post(
        reverse("my_aftersales:return_shipment", args=[second.number]),
        {"carrier": "SBX", "tracking_number": "SBX12345678"},
    )
    second.refresh_from_db()
    assert second.state == RequestState.RETURN_SHIPPED
    assert second.return_tracking_number == "SBX12345678"


def test_the_customer_sees_the_refund_and_the_closed_request(client):
    order = paid_online_order(prices=(Decimal("42.00"),))
    request = submit(order, kind=RequestKind.REFUND_ONLY)
    services.approve_request(request_id=request.pk, actor=agent(), reason="ok")
    services.issue_refund(request_id=request.pk, actor=agent())
    client.force_login(order.customer)
    text = client.get(detail_url(request)).content.decode()
    assert "Refund issued" in text and "42.00" in text
    assert "This request is closed." in text


def test_my_requests_list_is_constant_in_queries(client, django_assert_max_num_queries):
    customer = UserFactory(role=Role.CUSTOMER)
    client.force_login(customer)
    for _ in range(2):
        submit(make_order(state=OrderState.SHIPPED, customer=customer))
    with django_assert_max_num_queries(12) as few:
        assert client.get(reverse("my_aftersales:list")).status_code == 200
    for _ in range(6):
        submit(make_order(state=OrderState.SHIPPED, customer=customer))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("my_aftersales:list")).status_code == 200


# --- staff ------------------------------------------------------------------------------------
def test_the_desk_lists_requests_oldest_first_and_filters_by_state(client):
    older = submit(make_order(state=OrderState.SHIPPED))
    newer = submit(make_order(state=OrderState.SHIPPED))
    rejected = submit(make_order(state=OrderState.SHIPPED))
    services.reject_request(request_id=rejected.pk, actor=agent(), reason="no")
    client.force_login(agent())

    text = client.get(reverse("aftersales:list")).content.decode()
    assert text.index(older.number) < text.index(newer.number)
    text = client.get(reverse("aftersales:list") + "?state=submitted").content.decode()
    assert older.number in text and newer.number in text and rejected.number not in text
    text = client.get(reverse("aftersales:list") + "?kind=exchange").content.decode()
    assert older.number not in text
    text = client.get(reverse("aftersales:list") + f"?search={newer.number}").content.decode()
    assert newer.number in text and older.number not in text


@pytest.mark.parametrize("role", [Role.SERVICE, Role.WAREHOUSE, Role.MANAGER])
def test_staff_with_the_view_permission_open_the_desk_and_customers_do_not(client, role):
    request = submit(make_order(state=OrderState.SHIPPED))
    client.force_login(UserFactory(role=role))
    assert client.get(reverse("aftersales:list")).status_code == 200
    assert client.get(detail_url(request, staff=True)).status_code == 200
    client.force_login(UserFactory(role=Role.CUSTOMER))
    assert client.get(reverse("aftersales:list")).status_code == 403


def test_the_desk_list_is_constant_in_queries(client, django_assert_max_num_queries):
    client.force_login(agent())
    for _ in range(2):
        submit(make_order(state=OrderState.SHIPPED))
    with django_assert_max_num_queries(14) as few:
        assert client.get(reverse("aftersales:list")).status_code == 200
    for _ in range(8):
        request = submit(make_order(state=OrderState.SHIPPED))
        services.approve_request(request_id=request.pk, actor=agent(), reason="ok")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("aftersales:list")).status_code == 200


def test_the_request_page_is_constant_in_queries(client, django_assert_max_num_queries):
    client.force_login(agent())
    order = make_order(state=OrderState.SHIPPED, skus=[SKUFactory(), SKUFactory()])
    small = submit(order, quantities=(1,))
    with django_assert_max_num_queries(30) as few:
        client.get(detail_url(small, staff=True))
    big_order = make_order(
        state=OrderState.SHIPPED, skus=[SKUFactory() for _ in range(4)], quantities=[2] * 4
    )
    big = submit(big_order, quantities=(1, 1, 1, 1))
    services.approve_request(request_id=big.pk, actor=agent(), reason="ok")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(detail_url(big, staff=True))


def test_an_agent_approves_with_the_refund_preview_then_refunds(client):
    order = paid_online_order(prices=(Decimal("30.00"),), shipping=Decimal("5.00"))
    request = submit(order, kind=RequestKind.REFUND_ONLY)
    someone = agent()
    client.force_login(someone)
    page = client.get(detail_url(request, staff=True)).content.decode()
    assert "¥30.00" in page and "¥35.00" in page  # without and with the shipping

    no_reason = client.post(reverse("aftersales:approve", args=[request.number]), {}, follow=True)
    assert "every action on a request needs a reason" in no_reason.content.decode()
    request.refresh_from_db()
    assert request.state == RequestState.SUBMITTED

    client.post(
        reverse("aftersales:approve", args=[request.number]),
        {"reason": "Photos confirm it", "refund_shipping": "on"},
    )
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED
    assert request.approved_refund == Decimal("35.00")
    page = client.get(detail_url(request, staff=True)).content.decode()
    assert reverse("aftersales:refund", args=[request.number]) in page

    client.post(reverse("aftersales:refund", args=[request.number]), {"reason": "As approved"})
    request.refresh_from_db()
    assert request.state == RequestState.CLOSED
    assert Refund.objects.get().actor == someone


def test_an_agent_rejects_and_closes_with_reasons(client):
    order = make_order(state=OrderState.SHIPPED, quantities=[2])
    rejected = submit(order, quantities=(1,))
    closed = submit(order, quantities=(1,), kind=RequestKind.RESHIP)
    client.force_login(agent())
    client.post(reverse("aftersales:reject", args=[rejected.number]), {"reason": "Worn"})
    rejected.refresh_from_db()
    assert rejected.state == RequestState.REJECTED and rejected.decision_reason == "Worn"

    services.approve_request(request_id=closed.pk, actor=agent(), reason="ok")
    client.post(reverse("aftersales:close", args=[closed.number]), {"reason": "Found it"})
    closed.refresh_from_db()
    assert closed.state == RequestState.CLOSED


def test_an_agent_applies_a_change_of_information(client):
    order = make_order(state=OrderState.PAID)
    request = submit(order, kind=RequestKind.CHANGE_INFO, lines=[(0, 0)], requested_change="Tel")
    client.force_login(agent())
    page = client.get(detail_url(request, staff=True)).content.decode()
    assert reverse("aftersales:apply_info", args=[request.number]) in page
    client.post(
        reverse("aftersales:apply_info", args=[request.number]), {"reason": "Phone updated"}
    )
    request.refresh_from_db()
    assert request.state == RequestState.CLOSED


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.MANAGER])
def test_warehouse_and_managers_cannot_approve_or_refund(client, role):
    order = paid_online_order()
    request = submit(order, kind=RequestKind.REFUND_ONLY)
    client.force_login(UserFactory(role=role))
    page = client.get(detail_url(request, staff=True)).content.decode()
    assert reverse("aftersales:approve", args=[request.number]) not in page
    for action in ("approve", "reject", "refund", "close"):
        response = client.post(
            reverse(f"aftersales:{action}", args=[request.number]), {"reason": "x"}
        )
        assert response.status_code == 403
    services.approve_request(request_id=request.pk, actor=agent(), reason="ok")
    response = client.post(reverse("aftersales:refund", args=[request.number]), {"reason": "x"})
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED
    assert not Refund.objects.exists()


def test_staff_see_the_photos_and_customers_of_other_requests_do_not(client):
    order = make_order(state=OrderState.SHIPPED)
    request = submit(order, photos=[SimpleUploadedFile("a.jpg", JPEG)])
    photo = request.photos.get()
    client.force_login(UserFactory(role=Role.WAREHOUSE))
    assert client.get(reverse("aftersales:photo", args=[photo.pk])).status_code == 200
    client.force_login(UserFactory(role=Role.CUSTOMER))
    assert client.get(reverse("aftersales:photo", args=[photo.pk])).status_code == 403
    assert client.get(reverse("my_aftersales:photo", args=[photo.pk])).status_code == 404


def test_an_agent_takes_a_request_on_the_phone_from_the_order_page(client):
    order = make_order(state=OrderState.SHIPPED)
    someone = agent()
    client.force_login(someone)
    page = client.get(reverse("staff_orders:detail", args=[order.number])).content.decode()
    url = reverse("aftersales:new", args=[order.number])
    assert url in page
    client.post(
        url,
        {"kind": RequestKind.RESHIP, "reason": "missing", f"line_{order.lines.get().pk}": "1"},
    )
    request = AfterSalesRequest.objects.get()
    assert request.submitted_by == someone and request.customer == order.customer
    client.force_login(UserFactory(role=Role.WAREHOUSE))
    assert client.get(url).status_code == 403


def test_an_approved_reship_offers_the_replacement_button(client):
    order = make_order(state=OrderState.SHIPPED)
    request = submit(order, kind=RequestKind.RESHIP)
    services.approve_request(request_id=request.pk, actor=agent(), reason="ok")
    client.force_login(agent())
    page = client.get(detail_url(request, staff=True)).content.decode()
    assert reverse("returns:send_replacement", args=[request.pk]) in page
