"""Address-book services (ORD-3): one default, limit, ownership, validation."""

import pytest
from django.db import IntegrityError, transaction

from addresses import selectors, services
from addresses.divisions import InvalidDivision
from addresses.models import Address
from orders.services import ShippingAddress
from tests.factories import UserFactory, make_address

from .helpers import ADDRESS_DATA, add_address

pytestmark = pytest.mark.django_db


def _default_ids(customer) -> list[int]:
    return list(
        Address.objects.filter(customer=customer, is_default=True).values_list("pk", flat=True)
    )


def test_first_address_becomes_default_and_names_come_from_the_codes():
    customer = UserFactory(role="customer")

    first = add_address(customer, province="wrong", recipient_phone="+86 138-1234-5678")
    second = add_address(customer)

    assert first.is_default and not second.is_default
    assert (first.province, first.city, first.district) == ("浙江省", "杭州市", "西湖区")
    assert first.recipient_phone == "13812345678"
    assert selectors.default_address(customer) == first


def test_new_address_marked_default_takes_over():
    customer = UserFactory(role="customer")
    first = add_address(customer)

    second = add_address(customer, is_default=True)

    assert _default_ids(customer) == [second.pk]
    first.refresh_from_db()
    assert not first.is_default
    assert list(selectors.addresses_for(customer)) == [second, first]


def test_database_allows_only_one_default_per_customer():
    customer = UserFactory(role="customer")
    add_address(customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Address.objects.create(customer=customer, is_default=True, **ADDRESS_DATA)
    # Other customers have their own default.
    assert add_address(UserFactory(role="customer")).is_default


def test_set_default_moves_the_flag():
    customer = UserFactory(role="customer")
    add_address(customer)
    second = add_address(customer)

    services.set_default_address(customer=customer, address_id=second.pk)

    assert _default_ids(customer) == [second.pk]
    assert list(selectors.addresses_for(customer))[0] == second


def test_deleting_the_default_makes_the_most_recently_updated_one_default():
    customer = UserFactory(role="customer")
    default = add_address(customer)
    older = add_address(customer)
    newer = add_address(customer)
    services.update_address(customer=customer, address_id=older.pk, data={**ADDRESS_DATA})

    services.delete_address(customer=customer, address_id=default.pk)

    assert _default_ids(customer) == [older.pk]
    assert set(selectors.addresses_for(customer)) == {older, newer}


def test_deleting_another_address_keeps_the_default_and_last_one_leaves_none():
    customer = UserFactory(role="customer")
    default, other = add_address(customer), add_address(customer)

    services.delete_address(customer=customer, address_id=other.pk)
    assert _default_ids(customer) == [default.pk]

    services.delete_address(customer=customer, address_id=default.pk)
    assert not Address.objects.filter(customer=customer).exists()
    assert selectors.default_address(customer) is None


def test_address_book_holds_at_most_20():
    customer = UserFactory(role="customer")
    for _ in range(services.MAX_ADDRESSES):
        add_address(customer)

    with pytest.raises(services.AddressBookFull) as raised:
        add_address(customer)

    assert "full (20 addresses)" in raised.value.message
    assert Address.objects.filter(customer=customer).count() == 20


def test_update_replaces_content_but_clearing_default_keeps_it():
    customer = UserFactory(role="customer")
    address = add_address(customer)

    updated = services.update_address(
        customer=customer,
        address_id=address.pk,
        data={
            **ADDRESS_DATA,
            "province_code": "31",
            "city_code": "3101",
            "district_code": "310115",
            "label": "家",
            "is_default": False,
        },
    )

    address.refresh_from_db()
    assert (address.province, address.city, address.district, address.label) == (
        "上海市",
        "上海市",
        "浦东新区",
        "家",
    )
    assert updated.is_default and address.is_default


def test_someone_elses_address_does_not_exist_for_me():
    owner, intruder = UserFactory(role="customer"), UserFactory(role="customer")
    address = add_address(owner)

    for action in (
        lambda: services.update_address(
            customer=intruder, address_id=address.pk, data=ADDRESS_DATA
        ),
        lambda: services.delete_address(customer=intruder, address_id=address.pk),
        lambda: services.set_default_address(customer=intruder, address_id=address.pk),
        lambda: selectors.address_for(intruder, address.pk),
    ):
        with pytest.raises(Address.DoesNotExist):
            action()
    address.refresh_from_db()
    assert address.customer == owner and address.is_default


def test_invalid_data_is_refused_and_nothing_is_saved():
    customer = UserFactory(role="customer")
    with pytest.raises(InvalidDivision):
        add_address(customer, city_code="4403")
    with pytest.raises(services.InvalidAddress, match="mobile"):
        add_address(customer, recipient_phone="021-62345678")
    with pytest.raises(services.InvalidAddress, match="postcode"):
        add_address(customer, postcode="3100")
    with pytest.raises(services.InvalidAddress):
        add_address(customer, recipient_name="  ")
    assert not Address.objects.filter(customer=customer).exists()


def test_an_order_address_by_names_can_be_saved_and_given_back():
    customer = UserFactory(role="customer")
    snapshot = make_address(province="广东省", city="深圳市", district="南山区")

    address = services.create_address(customer=customer, data=vars(snapshot))

    assert (address.province_code, address.city_code, address.district_code) == (
        "44",
        "4403",
        "440305",
    )
    assert address.as_shipping_address() == snapshot
    assert isinstance(address.as_shipping_address(), ShippingAddress)
    assert "张伟" in str(address) and "广东省深圳市南山区" in str(address)
