"""Address-book screens and the division options endpoint (ORD-3, SEC-2, SEC-3)."""

import pytest
from django.test import Client
from django.urls import reverse

from addresses.models import Address
from tests.factories import UserFactory

from .helpers import FORM_DATA, add_address

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(client):
    user = UserFactory(role="customer")
    client.force_login(user)
    return user


def test_pages_need_login(client):
    response = client.get(reverse("addresses:list"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    response = client.post(reverse("addresses:create"), FORM_DATA)
    assert response.status_code == 302
    assert not Address.objects.exists()


def test_list_shows_my_addresses_default_first_and_not_others(client, customer):
    add_address(customer, recipient_name="默认")
    add_address(customer, recipient_name="第二", label="公司")
    add_address(UserFactory(role="customer"), recipient_name="别人")

    html = client.get(reverse("addresses:list")).content.decode()

    assert html.index("默认") < html.index("第二")
    assert "公司" in html
    assert "别人" not in html
    assert "csrfmiddlewaretoken" in html


def test_create_saves_and_redirects_with_a_message(client, customer):
    response = client.post(reverse("addresses:create"), FORM_DATA, follow=True)

    assert response.redirect_chain[-1][0] == reverse("addresses:list")
    address = Address.objects.get(customer=customer)
    assert (address.province, address.city, address.district) == ("广东省", "深圳市", "南山区")
    assert address.recipient_phone == "13987654321"
    assert address.is_default and address.label == "公司"
    assert "The address is saved in your address book." in response.content.decode()


def test_create_form_renders_cascading_selects(client, customer):
    html = client.get(reverse("addresses:create")).content.decode()
    assert 'hx-get="/addresses/divisions/"' in html
    assert 'hx-target="#id_city"' in html
    assert '<option value="33">浙江省</option>' in html
    assert 'autocomplete="postal-code"' in html


def test_invalid_create_shows_errors_and_keeps_the_lists(client, customer):
    response = client.post(reverse("addresses:create"), {**FORM_DATA, "city": "3301"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Choose a city in 广东省." in html
    assert '<option value="4403">深圳市</option>' in html
    assert not Address.objects.exists()


def test_create_goes_back_to_a_safe_next_only(client, customer):
    response = client.post(reverse("addresses:create"), {**FORM_DATA, "next": "/checkout/"})
    assert response["Location"] == "/checkout/"

    response = client.post(
        reverse("addresses:create"), {**FORM_DATA, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("addresses:list")


def test_create_form_carries_next(client, customer):
    html = client.get(reverse("addresses:create") + "?next=/checkout/").content.decode()
    assert 'name="next" value="/checkout/"' in html
    html = client.get(reverse("addresses:create") + "?next=//evil.example/").content.decode()
    assert 'name="next" value="//evil.example/"' not in html


def test_full_address_book_refuses_with_a_message(client, customer):
    for _ in range(20):
        add_address(customer)
    response = client.post(reverse("addresses:create"), FORM_DATA)
    assert response.status_code == 200
    assert "Your address book is full (20 addresses)." in response.content.decode()
    assert Address.objects.filter(customer=customer).count() == 20


def test_edit_prefills_and_updates(client, customer):
    address = add_address(customer)
    url = reverse("addresses:edit", args=[address.pk])

    html = client.get(url).content.decode()
    assert '<option value="330106" selected>西湖区</option>' in html
    assert 'name="is_default"' not in html  # the default stays until another is chosen

    response = client.post(url, {**FORM_DATA, "recipient_name": "王芳"}, follow=True)
    address.refresh_from_db()
    assert address.recipient_name == "王芳" and address.city == "深圳市"
    assert "The address is updated." in response.content.decode()


def test_delete_and_make_default(client, customer):
    first, second = add_address(customer), add_address(customer)

    response = client.post(reverse("addresses:make_default", args=[second.pk]), follow=True)
    assert "by default" in response.content.decode()
    second.refresh_from_db()
    assert second.is_default

    response = client.post(reverse("addresses:delete", args=[second.pk]), follow=True)
    assert "The address is deleted." in response.content.decode()
    first.refresh_from_db()
    assert first.is_default
    assert list(Address.objects.filter(customer=customer)) == [first]


def test_actions_are_post_only(client, customer):
    address = add_address(customer)
    assert client.get(reverse("addresses:delete", args=[address.pk])).status_code == 405
    assert client.get(reverse("addresses:make_default", args=[address.pk])).status_code == 405
    assert Address.objects.filter(pk=address.pk).exists()


def test_someone_elses_address_answers_404(client, customer):
    theirs = add_address(UserFactory(role="customer"))
    other = add_address(UserFactory(role="customer"))

    assert client.get(reverse("addresses:edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("addresses:edit", args=[theirs.pk]), FORM_DATA).status_code == 404
    assert client.post(reverse("addresses:delete", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("addresses:make_default", args=[other.pk])).status_code == 404
    assert Address.objects.filter(pk__in=[theirs.pk, other.pk]).count() == 2
    theirs.refresh_from_db()
    assert theirs.recipient_name == "张伟"


def test_staff_may_keep_addresses_too(client):
    client.force_login(UserFactory(role="service"))
    assert client.post(reverse("addresses:create"), FORM_DATA).status_code == 302


def test_csrf_is_enforced():
    user = UserFactory(role="customer")
    address = add_address(user)
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)

    assert csrf_client.post(reverse("addresses:create"), FORM_DATA).status_code == 403
    assert csrf_client.post(reverse("addresses:delete", args=[address.pk])).status_code == 403
    url = reverse("addresses:make_default", args=[address.pk])
    assert csrf_client.post(url).status_code == 403
    assert Address.objects.filter(customer=user).count() == 1

    csrf_client.get(reverse("addresses:list"))
    token = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post(
        reverse("addresses:create"), {**FORM_DATA, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert Address.objects.filter(customer=user).count() == 2


# --- division options -------------------------------------------------------------------------
def test_division_options_lists_children_with_a_placeholder(client):
    response = client.get(reverse("addresses:division_options"), {"parent": "33"})

    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<option value="">— choose —</option>')
    assert '<option value="3301">杭州市</option>' in html
    assert html.count("<option") == 12
    assert "public" in response["Cache-Control"] and "max-age=86400" in response["Cache-Control"]


def test_division_options_accepts_the_selects_own_name_and_resets_the_next(client):
    response = client.get(
        reverse("addresses:division_options"),
        {"address-province": "31", "reset": "id_address-district"},
    )
    html = response.content.decode()
    assert '<option value="3101">上海市</option>' in html
    assert '<select id="id_address-district" hx-swap-oob="innerHTML">' in html

    html = client.get(reverse("addresses:division_options"), {"city": "3101"}).content.decode()
    assert '<option value="310115">浦东新区</option>' in html


@pytest.mark.parametrize(
    "params",
    [{}, {"parent": ""}, {"parent": "99"}, {"parent": "x" * 5000}, {"parent": "330106"}],
)
def test_division_options_for_bad_input_is_the_placeholder_alone(client, params):
    response = client.get(reverse("addresses:division_options"), params)
    assert response.status_code == 200
    assert response.content.decode().strip() == '<option value="">— choose —</option>'


def test_division_options_ignores_an_unsafe_reset_id(client):
    response = client.get(
        reverse("addresses:division_options"), {"parent": "33", "reset": '"><script>'}
    )
    html = response.content.decode()
    assert "<script>" not in html and "hx-swap-oob" not in html


def test_division_options_makes_no_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        client.get(reverse("addresses:division_options"), {"parent": "44"})


# --- query counts -----------------------------------------------------------------------------
def _queries(client, django_assert_max_num_queries, url) -> int:
    with django_assert_max_num_queries(6) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_list_and_edit_query_counts_do_not_grow(client, customer, django_assert_max_num_queries):
    first = add_address(customer)
    add_address(customer)
    list_url = reverse("addresses:list")
    edit_url = reverse("addresses:edit", args=[first.pk])
    few = _queries(client, django_assert_max_num_queries, list_url)
    few_edit = _queries(client, django_assert_max_num_queries, edit_url)

    for _ in range(15):
        add_address(customer)

    assert _queries(client, django_assert_max_num_queries, list_url) == few
    assert _queries(client, django_assert_max_num_queries, edit_url) == few_edit
