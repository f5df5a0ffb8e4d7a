"""Administrative-division data (ORD-3): counts, municipalities, edge cases, resolve, names."""

import hashlib
import json

import pytest

from addresses import divisions
from addresses.divisions import CITY, DISTRICT, PROVINCE, Division, InvalidDivision

UPSTREAM_SHA256 = "83b7536f853ad16beb4d37b92890a3fd7bb9d33d4f37e7c8885fb948749a9bc4"


def _all_districts() -> list[Division]:
    return [
        district
        for province in divisions.provinces()
        for city in divisions.children(province.code)
        for district in divisions.children(city.code)
    ]


def test_vendored_file_is_upstreams_unchanged():
    data = divisions.DATA_FILE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == UPSTREAM_SHA256
    assert (divisions.DATA_DIR / "LICENSE").exists()


def test_31_mainland_provinces_and_every_upstream_district():
    upstream = json.loads(divisions.DATA_FILE.read_text(encoding="utf-8"))
    upstream_districts = sum(
        len(city.get("children", [])) for province in upstream for city in province["children"]
    )

    assert len(divisions.provinces()) == 31
    assert upstream_districts == 3056
    districts = _all_districts()
    assert len(districts) == 3056
    assert len({d.code for d in districts}) == 3056
    assert {d.level for d in districts} == {DISTRICT}
    assert "香港特别行政区" not in {p.name for p in divisions.provinces()}


@pytest.mark.parametrize(
    ("province", "district_count"),
    [("11", 16), ("12", 16), ("31", 16), ("50", 38)],
)
def test_municipality_has_one_city_named_like_it(province, district_count):
    municipality = divisions.get(province)
    cities = divisions.children(province)

    assert cities == [Division(code=province + "01", name=municipality.name, level=CITY)]
    assert len(divisions.children(cities[0].code)) == district_count
    assert all(city.name not in ("市辖区", "县") for city in cities)


def test_chongqing_counties_join_its_districts():
    names = {d.name for d in divisions.children("5001")}
    assert {"渝中区", "城口县", "彭水苗族土家族自治县"} <= names
    assert divisions.get("5002") is None
    assert divisions.get("500229").name == "城口县"


def test_directly_administered_county_level_entries_keep_upstream_names():
    hubei = {c.name: c for c in divisions.children("42")}
    assert "省直辖县级行政区划" in hubei
    assert [d.name for d in divisions.children(hubei["省直辖县级行政区划"].code)] == [
        "仙桃市",
        "潜江市",
        "天门市",
        "神农架林区",
    ]
    xinjiang = {c.name for c in divisions.children("65")}
    assert "自治区直辖县级行政区划" in xinjiang


@pytest.mark.parametrize(
    ("city_code", "name", "example"),
    [
        ("4419", "东莞市", "东城街道"),
        ("4420", "中山市", "石岐街道"),
        ("4604", "儋州市", "那大镇"),
        ("6202", "嘉峪关市", "雄关街道"),
    ],
)
def test_cities_without_districts_offer_their_towns(city_code, name, example):
    assert divisions.get(city_code).name == name
    third = {d.name: d for d in divisions.children(city_code)}
    assert example in third
    assert len(third[example].code) == 9


def test_levels_and_lookup():
    assert divisions.get("33") == Division("33", "浙江省", PROVINCE)
    assert divisions.get("3301") == Division("3301", "杭州市", CITY)
    assert divisions.get("330106") == Division("330106", "西湖区", DISTRICT)
    assert divisions.get("nope") is None
    assert divisions.children("") == []
    assert divisions.children("330106") == []
    assert divisions.children("99") == []


def test_children_cannot_corrupt_the_cached_data():
    divisions.children("33").clear()
    divisions.provinces().clear()
    assert len(divisions.children("33")) == 11
    assert len(divisions.provinces()) == 31


def test_resolve_returns_the_three_divisions():
    province, city, district = divisions.resolve("44", "4403", "440305")
    assert (province.name, city.name, district.name) == ("广东省", "深圳市", "南山区")


@pytest.mark.parametrize(
    ("codes", "field", "message"),
    [
        (("99", "4403", "440305"), "province", "Choose a province from the list."),
        (("4403", "4403", "440305"), "province", "Choose a province from the list."),
        (("33", "4403", "440305"), "city", "Choose a city in 浙江省."),
        (("44", "", "440305"), "city", "Choose a city in 广东省."),
        (("44", "4403", "330106"), "district", "Choose a district in 深圳市."),
        (("44", "4403", "4403"), "district", "Choose a district in 深圳市."),
        (("31", "3101", ""), "district", "Choose a district in 上海市."),
    ],
)
def test_resolve_refuses_unknown_or_mismatched_codes(codes, field, message):
    with pytest.raises(InvalidDivision) as raised:
        divisions.resolve(*codes)
    assert raised.value.field == field
    assert raised.value.message == message


@pytest.mark.parametrize(
    ("names", "codes"),
    [
        (("上海市", "上海市", "浦东新区"), ("31", "3101", "310115")),
        (("广东省", "深圳市", "南山区"), ("44", "4403", "440305")),
        (("浙江省", "杭州市", "西湖区"), ("33", "3301", "330106")),
        (("重庆市", "重庆市", "城口县"), ("50", "5001", "500229")),
        # Placeholder city names written by other systems are understood for municipalities.
        (("北京市", "市辖区", "海淀区"), ("11", "1101", "110108")),
        (("重庆市", "县", "城口县"), ("50", "5001", "500229")),
    ],
)
def test_find_by_names(names, codes):
    found = divisions.find_by_names(*names)
    assert tuple(d.code for d in found) == codes


@pytest.mark.parametrize(
    "names",
    [
        ("浙江省", "杭州市", "南山区"),
        ("广东省", "杭州市", "西湖区"),
        ("浙江", "杭州", "西湖区"),
        ("", "", ""),
    ],
)
def test_find_by_names_is_exact(names):
    assert divisions.find_by_names(*names) is None
