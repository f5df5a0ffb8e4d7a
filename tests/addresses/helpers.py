"""Building address-book state for tests, through the services."""

from addresses import services
from addresses.models import Address

ADDRESS_DATA = {
    "recipient_name": "张伟",
    "recipient_phone": "13812345678",
    "province_code": "33",
    "city_code": "3301",
    "district_code": "330106",
    "address_line": "文三路 478 号",
    "postcode": "310013",
}

FORM_DATA = {
    "recipient_name": "李娜",
    "recipient_phone": "139 8765 4321",
    "province": "44",
    "city": "4403",
    "district": "440305",
    "address_line": "科技园南区 1 号",
    "postcode": "518057",
    "label": "公司",
}


def add_address(customer, **overrides) -> Address:
    return services.create_address(customer=customer, data={**ADDRESS_DATA, **overrides})
