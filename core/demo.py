"""Demo and benchmark data (SPEC §10): what `manage.py seed_demo` and `manage.py seed_bulk` put
in the database.

- `seed_demo()` creates one account per role (password `demo1234`), a catalogue of Chinese-market
  goods and 90 days of order history. Orders are built through `orders.services` — the path a
  real order takes, with the same checks and events — and only then moved into the past.
- `insert_bulk_orders()` writes many orders fast for benchmarks with `bulk_create`. It skips
  the services but keeps their rules: amounts add up, the state matches the timeline of
  events, numbers come from `allocate_order_numbers()` for the day the order was placed.

Everything is deterministic (fixed lists, seeded random generators) except the dates, which are
relative to the moment of seeding. Both refuse to run unless `settings.DEMO_ACCOUNTS_ALLOWED`.
"""

from __future__ import annotations

import random
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import partial
from itertools import groupby

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import connection, models, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from accounts.roles import Role, sync_roles
from catalog.barcodes import make_ean13
from catalog.models import SKU, Category, Product
from feedback.demo import seed_demo_feedback
from fulfillment import selectors as floor_selectors
from fulfillment import services as floor
from fulfillment.models import (
    ActivityKind,
    FloorActivity,
    Fulfillment,
    FulfillmentState,
    PackageType,
    Parcel,
    Wave,
)
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from inventory.models import Bin, RegionPriority, StockMovement, StockThreshold, Warehouse
from notifications.services import recorded_as_history
from orders import services, shipments
from orders.models import (
    Carrier,
    CarrierIntegration,
    Channel,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    OrderState,
    PaymentMethod,
    Shipment,
    ShippingService,
    TrackingStatus,
)
from orders.numbers import allocate_order_numbers
from stores.models import Store, StoreKind

DEMO_PASSWORD = "demo1234"


class DemoDataRefused(Exception):
    """These settings do not allow demo data (`DEMO_ACCOUNTS_ALLOWED` is off)."""


def ensure_demo_data_allowed() -> None:
    """Refuse in production: demo accounts have a published password, bulk orders are fake."""
    if not getattr(settings, "DEMO_ACCOUNTS_ALLOWED", False):
        raise DemoDataRefused(
            "Demo data is disabled by these settings (DEMO_ACCOUNTS_ALLOWED is False, as in "
            "production): refusing to create accounts with the public password "
            f"'{DEMO_PASSWORD}' or fake orders."
        )


# =============================================================================================
# Accounts
# =============================================================================================


@dataclass(frozen=True)
class AccountSpec:
    email: str
    name: str  # full name, family name first, kept whole in first_name
    phone: str
    role: Role


STAFF_ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("warehouse@example.com", "李强", "13912340001", Role.WAREHOUSE),
    AccountSpec("service@example.com", "陈静", "13912340002", Role.SERVICE),
    AccountSpec("manager@example.com", "刘洋", "13912340003", Role.MANAGER),
    AccountSpec("admin@example.com", "郑海", "13912340004", Role.ADMIN),
)

# customer@example.com is the account to log in with; the others give the lists some variety.
CUSTOMER_ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("customer@example.com", "张伟", "13812345678", Role.CUSTOMER),
    AccountSpec("customer2@example.com", "王芳", "13967182345", Role.CUSTOMER),
    AccountSpec("customer3@example.com", "李娜", "15821934567", Role.CUSTOMER),
    AccountSpec("customer4@example.com", "陈磊", "18611208765", Role.CUSTOMER),
    AccountSpec("customer5@example.com", "杨静", "13760032198", Role.CUSTOMER),
    AccountSpec("customer6@example.com", "赵丽", "15927765410", Role.CUSTOMER),
    AccountSpec("customer7@example.com", "吴昊", "18729901234", Role.CUSTOMER),
    AccountSpec("customer8@example.com", "孙悦", "13505926678", Role.CUSTOMER),
    AccountSpec("customer9@example.com", "周敏", "17732245589", Role.CUSTOMER),
    AccountSpec("customer10@example.com", "徐斌", "15173318842", Role.CUSTOMER),
    AccountSpec("customer11@example.com", "朱婷", "19908712236", Role.CUSTOMER),
)

# Guests check out with an e-mail address only (customer=None).
GUESTS: tuple[tuple[str, str], ...] = (
    ("lin.xiaoyu@example.net", "林晓雨"),
    ("he.jun@example.net", "何军"),
    ("guo.mei@example.org", "郭梅"),
    ("ma.tao@example.com", "马涛"),
    ("luo.yi@example.net", "罗毅"),
    ("gao.wen@example.org", "高雯"),
)


@dataclass
class DemoAccounts:
    staff: dict[Role, User]
    customers: list[User]  # in CUSTOMER_ACCOUNTS order: customer@example.com first

    def by_email(self) -> dict[str, User]:
        return {user.email: user for user in [*self.staff.values(), *self.customers]}


def seed_roles() -> None:
    """Create or refresh the role groups and their permissions (idempotent)."""
    sync_roles(Group, Permission)


def _ensure_accounts(specs: Sequence[AccountSpec], password_hash: str) -> list[User]:
    groups = {group.name: group for group in Group.objects.filter(name__in=Role.values)}
    users = []
    for spec in specs:
        is_admin = spec.role == Role.ADMIN
        user, _created = User.objects.update_or_create(
            email=spec.email,
            defaults={
                "is_active": True,
                "is_staff": is_admin,
                "is_superuser": is_admin,
                "password": password_hash,
            },
            create_defaults={
                "first_name": spec.name,
                "phone": spec.phone,
                "is_active": True,
                "is_staff": is_admin,
                "is_superuser": is_admin,
                "password": password_hash,
            },
        )
        user.groups.add(groups[spec.role])
        users.append(user)
    return users


def seed_accounts() -> DemoAccounts:
    """One account per role plus ten more customers, all with the password `demo1234`.

    Idempotent: existing demo accounts keep their name and phone but get their role group,
    `is_active` and the demo password back, so the published logins always work.
    """
    # One hash for every demo account: hashing is deliberately slow, and these passwords are
    # public anyway.
    password_hash = make_password(DEMO_PASSWORD)
    staff_users = _ensure_accounts(STAFF_ACCOUNTS, password_hash)
    customers = _ensure_accounts(CUSTOMER_ACCOUNTS, password_hash)
    return DemoAccounts(
        staff={spec.role: user for spec, user in zip(STAFF_ACCOUNTS, staff_users, strict=True)},
        customers=customers,
    )


# =============================================================================================
# Catalogue
# =============================================================================================


@dataclass(frozen=True)
class CategorySpec:
    slug: str
    name: str
    parent: str | None = None


CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec("apparel", "服饰 Apparel"),
    CategorySpec("tops", "T恤与上衣 Tops", parent="apparel"),
    CategorySpec("outerwear", "外套 Outerwear", parent="apparel"),
    CategorySpec("kitchen", "厨房用品 Kitchen"),
    CategorySpec("teaware", "茶具 Teaware", parent="kitchen"),
    CategorySpec("tea", "茶叶 Tea"),
    CategorySpec("electronics", "数码配件 Electronics accessories"),
    CategorySpec("stationery", "文具 Stationery"),
    CategorySpec("home", "家居 Home"),
)


@dataclass(frozen=True)
class Size:
    """A size variant; price and weight default to the product's."""

    label: str
    code: str = ""
    price: str | None = None
    weight: int | None = None


@dataclass(frozen=True)
class ProductSpec:
    code: str  # leads every SKU code of the product
    category: str  # CategorySpec.slug
    zh: str
    en: str
    price: str
    weight: int  # grams, packed
    colours: tuple[tuple[str, str], ...] = ()  # (label, code)
    sizes: tuple[Size, ...] = ()
    fragile: bool = False
    active: bool = True
    description: str = ""

    @property
    def name(self) -> str:
        return f"{self.zh} {self.en}"

    @property
    def slug(self) -> str:
        return slugify(self.en)

    def variants(self) -> Iterator[tuple[str, str, str, Decimal, int]]:
        """(SKU code, colour, size, price, weight) for every colour × size."""
        for colour, colour_code in self.colours or (("", ""),):
            for size in self.sizes or (Size(""),):
                code = "-".join(
                    part for part in (self.code, colour_code, size.code or size.label) if part
                )
                yield (
                    code,
                    colour,
                    size.label,
                    Decimal(size.price or self.price),
                    size.weight or self.weight,
                )


WHITE = ("白色 White", "WH")
BLACK = ("黑色 Black", "BK")
NAVY = ("藏青 Navy", "NV")
GREY = ("灰色 Grey", "GY")
KHAKI = ("卡其 Khaki", "KH")
OLIVE = ("军绿 Olive", "OL")
LIGHT_BLUE = ("浅蓝 Light blue", "LB")
SKY_BLUE = ("天蓝 Sky blue", "BL")
PINK = ("樱花粉 Sakura pink", "PK")
MATCHA = ("抹茶绿 Matcha green", "GN")
CLEAR = ("透明 Clear", "CL")
RED = ("红色 Red", "RD")
KRAFT = ("牛皮纸 Kraft", "KR")
CELADON = ("青瓷 Celadon", "CE")
MOON_WHITE = ("月白 Moon white", "MW")

M_L_XL = (Size("M"), Size("L"), Size("XL"))

# Append new products at the end: a product's position numbers its barcodes.
PRODUCTS: tuple[ProductSpec, ...] = (
    # --- tops ---------------------------------------------------------------------------------
    ProductSpec("TEE01", "tops", "纯棉圆领T恤", "Cotton crew-neck T-shirt", "79.00", 220,
                colours=(WHITE, BLACK), sizes=M_L_XL,
                description="新疆长绒棉,200g 重磅面料,不易变形。"),
    ProductSpec("POLO1", "tops", "商务Polo衫", "Business polo shirt", "159.00", 260,
                colours=(WHITE, NAVY), sizes=M_L_XL,
                description="珠地网眼面料,透气挺括,适合通勤。"),
    ProductSpec("HOOD1", "tops", "连帽卫衣", "Hooded sweatshirt", "199.00", 520,
                colours=(GREY, BLACK), sizes=M_L_XL,
                description="加绒内里,秋冬保暖。"),
    ProductSpec("SHRT1", "tops", "亚麻衬衫", "Linen shirt", "229.00", 280,
                colours=(WHITE, LIGHT_BLUE), sizes=(Size("M"), Size("L")),
                description="天然亚麻,夏季清爽。"),
    ProductSpec("HANF1", "tops", "新中式盘扣上衣", "Chinese-style frog-button blouse",
                "269.00", 300, colours=(MOON_WHITE,), sizes=(Size("S"), Size("M"), Size("L")),
                description="改良盘扣设计,日常可穿。"),
    # --- outerwear ----------------------------------------------------------------------------
    ProductSpec("DOWN1", "outerwear", "轻薄羽绒服", "Lightweight down jacket", "499.00", 450,
                colours=(BLACK, NAVY, KHAKI), sizes=M_L_XL,
                description="90% 白鸭绒,可收纳进随附的小袋。"),
    ProductSpec("WIND1", "outerwear", "防风冲锋衣", "Windproof shell jacket", "399.00", 600,
                colours=(BLACK, OLIVE), sizes=(Size("L"), Size("XL")),
                description="防泼水面料,可拆卸帽子。"),
    ProductSpec("FLCE1", "outerwear", "摇粒绒外套", "Fleece jacket", "189.00", 480,
                colours=(GREY,), sizes=M_L_XL),
    # --- kitchen ------------------------------------------------------------------------------
    ProductSpec("FLSK1", "kitchen", "保温杯", "Vacuum flask", "129.00", 350,
                colours=(WHITE, BLACK, PINK),
                sizes=(Size("350ml"), Size("500ml", price="149.00", weight=420)),
                description="316 不锈钢内胆,保温 12 小时。"),
    ProductSpec("RICE1", "kitchen", "智能电饭煲", "Smart rice cooker", "399.00", 3200,
                colours=(WHITE,), sizes=(Size("3L"), Size("4L", price="459.00", weight=3800)),
                fragile=True, description="IH 加热,预约定时,柴火饭模式。"),
    ProductSpec("WOK01", "kitchen", "铸铁炒锅", "Cast-iron wok", "259.00", 2600,
                sizes=(Size("32cm"), Size("34cm", price="289.00", weight=2900)),
                description="无涂层,越用越不粘。"),
    ProductSpec("CHOP1", "kitchen", "合金筷子10双装", "Alloy chopsticks, 10 pairs", "39.90", 300,
                description="耐高温,可进洗碗机。"),
    ProductSpec("KNIF1", "kitchen", "中式菜刀", "Chinese chef's knife", "119.00", 420,
                description="复合钢锻打,切片斩骨两用。"),
    ProductSpec("BOWL1", "kitchen", "青花瓷饭碗4只装", "Blue-and-white porcelain bowls, set of 4",
                "88.00", 1200, fragile=True, description="景德镇釉下彩,可用微波炉。"),
    ProductSpec("STMR1", "kitchen", "竹制蒸笼", "Bamboo steamer", "69.00", 700,
                sizes=(Size("24cm"), Size("28cm", price="89.00", weight=900))),
    ProductSpec("LUNC1", "kitchen", "不锈钢饭盒", "Stainless-steel lunch box", "59.00", 500,
                colours=(MATCHA, SKY_BLUE)),
    # --- teaware ------------------------------------------------------------------------------
    ProductSpec("GWAN1", "teaware", "白瓷盖碗", "White porcelain gaiwan", "68.00", 250,
                fragile=True, description="150ml,德化白瓷,薄胎不烫手。"),
    ProductSpec("TPOT1", "teaware", "宜兴紫砂壶", "Yixing clay teapot", "368.00", 400,
                fragile=True, description="原矿紫泥,手工拉坯,附证书。"),
    ProductSpec("TSET1", "teaware", "功夫茶具套装", "Gongfu tea set", "299.00", 1800,
                colours=(CELADON, ("白瓷 White porcelain", "WP")), fragile=True,
                description="一壶六杯,含公道杯与茶滤。"),
    ProductSpec("GLCP1", "teaware", "双层玻璃杯", "Double-wall glass cup", "49.00", 220,
                sizes=(Size("250ml"), Size("350ml", price="59.00", weight=260)), fragile=True),
    ProductSpec("TTRY1", "teaware", "竹制茶盘", "Bamboo tea tray", "159.00", 1500,
                description="储水式,整竹拼接。"),
    # --- tea ----------------------------------------------------------------------------------
    ProductSpec("LJTE1", "tea", "西湖龙井", "West Lake Longjing green tea", "128.00", 150,
                sizes=(Size("100g"), Size("250g", price="298.00", weight=320)),
                description="明前特级,杭州西湖产区。"),
    ProductSpec("TGYN1", "tea", "安溪铁观音", "Anxi Tieguanyin oolong", "98.00", 160,
                sizes=(Size("125g"), Size("250g", price="178.00", weight=290)),
                description="清香型,独立小泡袋装。"),
    ProductSpec("PUER1", "tea", "云南普洱茶饼", "Yunnan Pu-erh tea cake", "158.00", 400,
                sizes=(Size("357g"),), description="勐海熟茶,2019 年压制。"),
    ProductSpec("DHP01", "tea", "武夷山大红袍", "Wuyi Da Hong Pao rock tea", "168.00", 130,
                sizes=(Size("100g"), Size("200g", price="318.00", weight=240))),
    ProductSpec("JASM1", "tea", "茉莉花茶", "Jasmine tea", "58.00", 130,
                sizes=(Size("100g"), Size("250g", price="128.00", weight=290)),
                description="福州茉莉,七窨一提。"),
    ProductSpec("BAIC1", "tea", "福鼎白茶", "Fuding white tea", "228.00", 280,
                sizes=(Size("250g"),), active=False, description="白牡丹,本季已售罄。"),
    # --- electronics accessories --------------------------------------------------------------
    ProductSpec("CABL1", "electronics", "USB-C快充数据线", "USB-C fast-charging cable",
                "29.90", 60, colours=(WHITE, BLACK),
                sizes=(Size("1m"), Size("2m", price="39.90", weight=90)),
                description="支持 100W 快充,编织线身。"),
    ProductSpec("CHRG1", "electronics", "65W氮化镓充电器", "65W GaN charger", "139.00", 120,
                colours=(WHITE, BLACK), fragile=True, description="双 C 口,可折叠插脚。"),
    ProductSpec("PWBK1", "electronics", "20000mAh移动电源", "20000mAh power bank", "169.00",
                420, colours=(WHITE, BLACK), fragile=True, description="22.5W 快充,可带上飞机。"),
    ProductSpec("EARB1", "electronics", "蓝牙耳机", "Bluetooth earbuds", "299.00", 80,
                colours=(WHITE, BLACK), fragile=True, description="主动降噪,续航 30 小时。"),
    ProductSpec("CASE1", "electronics", "手机壳", "Phone case", "39.00", 40,
                colours=(CLEAR, BLACK, SKY_BLUE),
                sizes=(Size("iPhone 15", code="IP15"), Size("Mate 60", code="M60"))),
    ProductSpec("MOUS1", "electronics", "无线鼠标", "Wireless mouse", "89.00", 100,
                colours=(BLACK, WHITE), fragile=True, description="静音按键,蓝牙与 2.4G 双模。"),
    ProductSpec("KEYB1", "electronics", "机械键盘", "Mechanical keyboard", "359.00", 900,
                colours=(BLACK, WHITE), fragile=True, description="87 键,热插拔,茶轴。"),
    # --- stationery ---------------------------------------------------------------------------
    ProductSpec("NOTE1", "stationery", "A5笔记本", "A5 notebook", "19.90", 250,
                colours=(KRAFT, BLACK),
                sizes=(Size("横线 Lined", code="LN"), Size("方格 Squared", code="SQ"))),
    ProductSpec("GPEN1", "stationery", "中性笔12支装", "Gel pens, pack of 12", "24.00", 150,
                colours=(BLACK, ("蓝色 Blue", "BU"), RED)),
    ProductSpec("BRSH1", "stationery", "毛笔书法套装", "Calligraphy brush set", "89.00", 600,
                description="兼毫毛笔三支,附墨汁与笔架。"),
    ProductSpec("XUAN1", "stationery", "宣纸100张", "Xuan rice paper, 100 sheets", "45.00", 800,
                sizes=(Size("三尺 3 chi", code="3C"),
                       Size("四尺 4 chi", code="4C", price="65.00", weight=1100)),
                description="泾县生宣,书画两用。"),
    ProductSpec("SEAL1", "stationery", "青田石篆刻印章", "Qingtian stone name seal", "128.00",
                200, fragile=True, description="下单后留言刻字内容。"),
    # --- home ---------------------------------------------------------------------------------
    ProductSpec("PILL1", "home", "乳胶枕", "Latex pillow", "239.00", 1300,
                description="泰国天然乳胶,波浪曲线。"),
    ProductSpec("DUVT1", "home", "桑蚕丝被", "Mulberry silk duvet", "699.00", 2600,
                sizes=(Size("150×200cm", code="150"),
                       Size("200×230cm", code="200", price="899.00", weight=3400))),
    ProductSpec("TOWL1", "home", "纯棉毛巾3条装", "Cotton towels, 3-pack", "49.00", 400,
                colours=(WHITE, GREY, PINK)),
    ProductSpec("VASE1", "home", "景德镇陶瓷花瓶", "Jingdezhen ceramic vase", "268.00", 1100,
                fragile=True, description="手绘青花,高 30cm。"),
    ProductSpec("DIFF1", "home", "香薰加湿器", "Aroma diffuser", "159.00", 700, fragile=True,
                description="300ml 水箱,七色夜灯。"),
    ProductSpec("SLPR1", "home", "居家拖鞋", "Indoor slippers", "39.00", 300,
                colours=(GREY, SKY_BLUE),
                sizes=(Size("38-39", code="38"), Size("40-41", code="40"),
                       Size("42-43", code="42"))),
    ProductSpec("CNDL1", "home", "玻璃罐香薰蜡烛", "Scented candle in a glass jar", "69.00", 350,
                sizes=(Size("200g"), Size("400g", price="109.00", weight=620)), fragile=True),
    ProductSpec("LANT1", "home", "春节红灯笼一对", "Spring Festival red lanterns, pair", "59.00",
                800, active=False, description="节日限定,已下架。"),
)  # fmt: skip

# A GS1 China (690–699) style company prefix; the item reference is product × variant.
BARCODE_PREFIX = "6923456"


def demo_barcode(product_number: int, variant_number: int) -> str:
    return make_ean13(f"{BARCODE_PREFIX}{product_number:03d}{variant_number:02d}")


def seed_catalogue() -> list[SKU]:
    """The demo categories, products and SKUs (idempotent: get-or-create by slug and code).

    Returns the SKUs on sale (SKU and product active), ordered by code.
    """
    categories: dict[str, Category] = {}
    for position, spec in enumerate(CATEGORIES):
        categories[spec.slug], _created = Category.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "name": spec.name,
                "parent": categories[spec.parent] if spec.parent else None,
                "position": position,
            },
        )
    codes = [code for spec in PRODUCTS for code, *_rest in spec.variants()]
    existing_codes = set(SKU.objects.filter(code__in=codes).values_list("code", flat=True))
    new_skus = []
    for product_number, spec in enumerate(PRODUCTS, start=1):
        product, _created = Product.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "category": categories[spec.category],
                "name": spec.name,
                "description": spec.description,
                "is_active": spec.active,
            },
        )
        for variant_number, (code, colour, size, price, weight) in enumerate(
            spec.variants(), start=1
        ):
            if code in existing_codes:
                continue
            new_skus.append(
                SKU(
                    product=product,
                    code=code,
                    barcode=demo_barcode(product_number, variant_number),
                    color=colour,
                    size=size,
                    price=price,
                    weight_grams=weight,
                    is_fragile=spec.fragile,
                )
            )
    SKU.objects.bulk_create(new_skus)
    return list(
        SKU.objects.filter(code__in=codes, is_active=True, product__is_active=True)
        .select_related("product")
        .order_by("code")
    )


# =============================================================================================
# Places and people
# =============================================================================================


@dataclass(frozen=True)
class Place:
    province: str
    city: str
    district: str
    postcode: str
    streets: tuple[str, ...]


PLACES: tuple[Place, ...] = (
    Place("浙江省", "杭州市", "西湖区", "310013", ("文三路", "天目山路", "古墩路")),
    Place("浙江省", "杭州市", "余杭区", "311121", ("文一西路", "五常大道")),
    Place("浙江省", "宁波市", "鄞州区", "315100", ("天童南路", "首南中路")),
    Place("上海市", "上海市", "浦东新区", "200120", ("世纪大道", "张杨路", "东方路")),
    Place("上海市", "上海市", "徐汇区", "200030", ("漕溪北路", "肇嘉浜路")),
    Place("北京市", "北京市", "朝阳区", "100020", ("建国路", "朝阳北路", "望京街")),
    Place("北京市", "北京市", "海淀区", "100080", ("中关村大街", "学院路")),
    Place("广东省", "深圳市", "南山区", "518057", ("科苑路", "深南大道", "后海大道")),
    Place("广东省", "广州市", "天河区", "510620", ("天河路", "体育西路", "华夏路")),
    Place("江苏省", "南京市", "鼓楼区", "210008", ("中山路", "北京西路")),
    Place("江苏省", "苏州市", "姑苏区", "215000", ("人民路", "干将路")),
    Place("四川省", "成都市", "武侯区", "610041", ("人民南路", "武侯祠大街")),
    Place("湖北省", "武汉市", "洪山区", "430070", ("珞喻路", "雄楚大道")),
    Place("陕西省", "西安市", "雁塔区", "710061", ("长安南路", "小寨西路")),
    Place("福建省", "厦门市", "思明区", "361001", ("中山路", "湖滨南路")),
    Place("山东省", "青岛市", "市南区", "266001", ("香港中路", "东海西路")),
    Place("湖南省", "长沙市", "岳麓区", "410006", ("麓山南路", "枫林一路")),
    Place("重庆市", "重庆市", "渝中区", "400010", ("民族路", "中山三路")),
    Place("天津市", "天津市", "和平区", "300041", ("南京路", "滨江道")),
    Place("河南省", "郑州市", "金水区", "450003", ("花园路", "经三路")),
    Place("云南省", "昆明市", "五华区", "650021", ("人民中路", "青年路")),
    Place("安徽省", "合肥市", "蜀山区", "230031", ("长江西路", "黄山路")),
)

ESTATES = ("阳光花园", "翠苑小区", "金色家园", "锦绣江南", "梧桐里", "万科城", "绿城桂花园")
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
    "155", "156", "158", "159", "177", "180", "181", "185", "186", "187", "188", "189", "199",
)  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN_NAMES = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "霞", "平", "刚", "晓燕", "志强", "秀英", "子涵", "浩然", "欣怡", "宇轩", "雨桐",
)  # fmt: skip
CUSTOMER_NOTES = (
    "请工作日送货,周末家里没人。",
    "麻烦包装结实一点,是送人的礼物。",
    "到了请放门卫室,谢谢。",
    "不要放快递柜,请送货上门。",
    "请开具电子发票。",
)


def random_mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def random_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


def random_address_line(rng: random.Random, place: Place) -> str:
    street = rng.choice(place.streets)
    if rng.random() < 0.7:
        estate = f"{rng.choice(ESTATES)}{rng.randint(1, 30)}幢{rng.randint(1, 4)}单元"
        return f"{street}{rng.randint(1, 999)}号{estate}{rng.randint(1, 32)}0{rng.randint(1, 4)}室"
    return f"{street}{rng.randint(1, 999)}号{rng.choice('ABCD')}座{rng.randint(2, 28)}层"


def random_address(
    rng: random.Random, *, name: str, phone: str, place: Place | None = None
) -> services.ShippingAddress:
    place = place or rng.choice(PLACES)
    return services.ShippingAddress(
        recipient_name=name,
        recipient_phone=phone,
        province=place.province,
        city=place.city,
        district=place.district,
        address_line=random_address_line(rng, place),
        postcode=place.postcode,
    )


# =============================================================================================
# Order timelines (shared by demo and bulk orders)
# =============================================================================================


class Outcome(StrEnum):
    """Where an order's story ends. Cancellation is split by whether payment came first."""

    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    PICKED = "picked"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED_UNPAID = "cancelled_unpaid"
    CANCELLED_PAID = "cancelled_paid"


# Older orders have run their course; the recent ones fill the work queues. Pending orders are
# all younger than the payment deadline, as the deadline job would have cancelled the others.
OUTCOME_WEIGHTS_BY_AGE: tuple[tuple[float, dict[Outcome, int]], ...] = (
    # (younger than this many days, weights)
    (1, {Outcome.PENDING_PAYMENT: 25, Outcome.PAID: 30, Outcome.PICKED: 15, Outcome.SHIPPED: 12,
         Outcome.CANCELLED_UNPAID: 12, Outcome.CANCELLED_PAID: 6}),
    (3, {Outcome.PAID: 8, Outcome.PICKED: 12, Outcome.SHIPPED: 60, Outcome.COMPLETED: 5,
         Outcome.CANCELLED_UNPAID: 10, Outcome.CANCELLED_PAID: 5}),
    (10, {Outcome.SHIPPED: 35, Outcome.COMPLETED: 50, Outcome.CANCELLED_UNPAID: 9,
          Outcome.CANCELLED_PAID: 6}),
    (float("inf"), {Outcome.COMPLETED: 85, Outcome.CANCELLED_UNPAID: 9,
                    Outcome.CANCELLED_PAID: 6}),
)  # fmt: skip

PAYMENT_DEADLINE = timedelta(hours=24)
AUTO_COMPLETE_AFTER = timedelta(days=10)
ONE_DAY = timedelta(days=1)

CUSTOMER_CANCEL_REASONS = ("不想要了", "拍错了规格", "地址填错了,重新下单", "找到更便宜的了")
SERVICE_CANCEL_REASONS = (
    "Customer asked by phone to cancel before shipment; payment refunded.",
    "Item found damaged in the warehouse, customer chose a refund.",
    "Customer changed their mind before shipment; payment refunded.",
)
GUEST_CANCEL_REASON = "Guest called to cancel before paying."
AUTO_COMPLETE_REASON = "Receipt confirmed automatically after the confirmation period."
INTERCEPT_REASONS = ("Customer asked to cancel after picking; parcel stopped at the packing desk.",)


def choose_outcome(rng: random.Random, age: timedelta) -> Outcome:
    days = age / ONE_DAY
    for limit, weights in OUTCOME_WEIGHTS_BY_AGE:
        if days < limit:
            return rng.choices(list(weights), weights=list(weights.values()))[0]
    raise AssertionError("the last age bucket has no limit")


@dataclass(frozen=True)
class Step:
    """One planned event of an order's timeline. `actor` is a role name or None (the system)."""

    kind: str
    at: datetime
    from_state: str
    to_state: str
    actor: str | None = None
    reason: str = ""


def plan_timeline(
    rng: random.Random,
    *,
    placed_at: datetime,
    outcome: Outcome,
    payment_method: str,
    has_customer: bool,
    now: datetime,
) -> list[Step]:
    """The events that take an order placed at `placed_at` to `outcome`, all before `now`.

    Steps are hours to days apart; if the story does not fit in the order's age, it is
    compressed. Deadline-driven steps (auto-cancel, auto-complete) are only chosen when they fit
    uncompressed, so that their times stay exact.
    """
    age = now - placed_at
    customer = "customer" if has_customer else None
    plan: list[tuple[str, timedelta, str, str, str | None, str]] = []  # kind, offset, ...
    offset = timedelta(0)
    state = OrderState.PENDING_PAYMENT

    def add(kind: str, delay: timedelta, to_state: str, actor: str | None, reason: str = ""):
        nonlocal offset, state
        offset += delay
        plan.append((kind, offset, state, to_state, actor, reason))
        state = to_state

    if outcome == Outcome.CANCELLED_UNPAID:
        if age > PAYMENT_DEADLINE + timedelta(hours=1) and (not has_customer or rng.random() < 0.4):
            add(OrderEventKind.CANCELLED, PAYMENT_DEADLINE, OrderState.CANCELLED, None,
                "Not paid before the payment deadline.")  # fmt: skip
        elif has_customer:
            add(OrderEventKind.CANCELLED, timedelta(minutes=rng.uniform(3, 180)),
                OrderState.CANCELLED, customer, rng.choice(CUSTOMER_CANCEL_REASONS))  # fmt: skip
        else:
            add(OrderEventKind.CANCELLED, timedelta(minutes=rng.uniform(10, 300)),
                OrderState.CANCELLED, "service", GUEST_CANCEL_REASON)  # fmt: skip
    elif outcome != Outcome.PENDING_PAYMENT:
        if payment_method == PaymentMethod.CASH_ON_DELIVERY:
            add(OrderEventKind.COD_ACCEPTED, timedelta(minutes=rng.uniform(1, 5)),
                OrderState.PAID, None)  # fmt: skip
        else:
            add(OrderEventKind.PAID, timedelta(minutes=rng.uniform(1, 40)), OrderState.PAID, None)
        cancel_before_pick = outcome == Outcome.CANCELLED_PAID and rng.random() < 0.6
        if cancel_before_pick:
            add(OrderEventKind.CANCELLED, timedelta(hours=rng.uniform(1, 20)),
                OrderState.CANCELLED, "service", rng.choice(SERVICE_CANCEL_REASONS))  # fmt: skip
        elif outcome != Outcome.PAID:
            add(OrderEventKind.PICKED, timedelta(hours=rng.uniform(2, 26)),
                OrderState.PICKED, "warehouse")  # fmt: skip
            if outcome == Outcome.CANCELLED_PAID:
                add(OrderEventKind.CANCELLED, timedelta(hours=rng.uniform(0.5, 3)),
                    OrderState.CANCELLED, "service", rng.choice(INTERCEPT_REASONS))  # fmt: skip
            elif outcome != Outcome.PICKED:
                add(OrderEventKind.SHIPPED, timedelta(hours=rng.uniform(0.5, 6)),
                    OrderState.SHIPPED, "warehouse")  # fmt: skip
                if outcome == Outcome.COMPLETED:
                    auto_fits = age > offset + AUTO_COMPLETE_AFTER + timedelta(hours=1)
                    if auto_fits and (not has_customer or rng.random() < 0.25):
                        add(OrderEventKind.COMPLETED,
                            AUTO_COMPLETE_AFTER + timedelta(minutes=rng.uniform(0, 30)),
                            OrderState.COMPLETED, None, AUTO_COMPLETE_REASON)  # fmt: skip
                    elif has_customer:
                        add(OrderEventKind.COMPLETED, timedelta(days=rng.uniform(2, 7)),
                            OrderState.COMPLETED, customer)  # fmt: skip
                    else:
                        add(OrderEventKind.COMPLETED, timedelta(days=rng.uniform(2, 7)),
                            OrderState.COMPLETED, "service",
                            "Guest confirmed receipt by phone.")  # fmt: skip

    room = age - timedelta(minutes=1)
    # A story too long for the order's age ends at a random moment of it, not all at "now".
    scale = room * rng.uniform(0.6, 0.98) / offset if plan and offset > room else 1.0
    steps = [Step(OrderEventKind.PLACED, placed_at, "", OrderState.PENDING_PAYMENT, customer)]
    steps += [
        Step(kind, placed_at + delay * scale, from_state, to_state, actor, reason)
        for kind, delay, from_state, to_state, actor, reason in plan
    ]
    return steps


def timestamps_from_steps(steps: Sequence[Step]) -> dict[str, datetime | None]:
    """The order's own timestamp fields, as the services would have stamped them."""
    at = {step.kind: step.at for step in steps}
    return {
        "created_at": steps[0].at,
        "paid_at": at.get(OrderEventKind.PAID),
        "shipped_at": at.get(OrderEventKind.SHIPPED),
        "completed_at": at.get(OrderEventKind.COMPLETED),
        "cancelled_at": at.get(OrderEventKind.CANCELLED),
    }


ZERO = Decimal("0.00")
FREE_SHIPPING_FROM = Decimal("99.00")
SHIPPING_FEE = Decimal("8.00")


def price_order(goods: Decimal, *, discount: Decimal = ZERO) -> tuple[Decimal, Decimal, Decimal]:
    """(discount, shipping, total) for an order: free shipping (包邮) from 99 yuan, 8 below."""
    shipping = ZERO if goods - discount >= FREE_SHIPPING_FROM else SHIPPING_FEE
    return discount, shipping, goods - discount + shipping


LINE_COUNT_WEIGHTS = {1: 55, 2: 28, 3: 12, 4: 5}
QUANTITY_WEIGHTS = {1: 80, 2: 15, 3: 5}
HOUR_WEIGHTS = (2, 1, 1, 0.5, 0.5, 0.5, 1, 2, 3, 4, 5, 5, 5, 4, 4, 4, 4, 4, 5, 6, 8, 9, 8, 5)


def sku_popularity(code: str) -> float:
    """A stable, long-tailed popularity per SKU (a few best-sellers, many slow movers)."""
    return random.Random(code).paretovariate(1.2)


class WeightedPicker:
    """Draws distinct items by weight, faster than `random.choices` for repeated draws."""

    def __init__(self, items: Sequence, weights: Sequence[float]):
        self.items = list(items)
        self.cumulative: list[float] = []
        total = 0.0
        for weight in weights:
            total += weight
            self.cumulative.append(total)
        self.total = total

    def one(self, rng: random.Random):
        return self.items[bisect_right(self.cumulative, rng.random() * self.total)]

    def distinct(self, rng: random.Random, count: int) -> list:
        count = min(count, len(self.items))
        chosen: list = []
        while len(chosen) < count:
            item = self.one(rng)
            if item not in chosen:
                chosen.append(item)
        return chosen


def weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


# =============================================================================================
# Demo orders: through the services, then moved into the past
# =============================================================================================

DEMO_ORDER_COUNT = 240
DEMO_DAYS = 90
DEMO_SEED = 20240618
# Key in the "placed" event's details that numbers a demo order: reruns skip the numbers found.
DEMO_MARKER = "demo_seq"

# Ages for the first orders, one per outcome, so that every state shows whatever the dice say.
_FORCED_AGES_DAYS: dict[Outcome, tuple[float, float]] = {
    Outcome.PENDING_PAYMENT: (0.05, 0.8),
    Outcome.PAID: (0.1, 0.9),
    Outcome.PICKED: (0.5, 1.5),
    Outcome.SHIPPED: (1.5, 3),
    Outcome.COMPLETED: (12, 60),
    Outcome.CANCELLED_UNPAID: (2, 60),
    Outcome.CANCELLED_PAID: (2, 60),
}


@dataclass(frozen=True)
class PlannedOrder:
    seq: int
    customer_email: str | None
    contact_email: str
    address: services.ShippingAddress
    lines: tuple[services.LineRequest, ...]
    payment_method: str
    channel: str
    external_id: str
    shipping_amount: Decimal
    customer_note: str
    steps: tuple[Step, ...]

    @property
    def placed_at(self) -> datetime:
        return self.steps[0].at


def _placed_at(rng: random.Random, now: datetime, days_ago: float) -> datetime:
    """A time `days_ago` days back (fractional), moved to a likely hour of the shop's day."""
    local_now = timezone.localtime(now)
    day = local_now.date() - timedelta(days=int(days_ago))
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    moment = timezone.make_aware(
        datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60))
    )
    if moment >= now - timedelta(minutes=5):
        # Today, but the hour has not come yet: somewhere between midnight and now.
        midnight = timezone.make_aware(datetime(day.year, day.month, day.day))
        moment = midnight + (now - timedelta(minutes=5) - midnight) * rng.random()
    return moment


def plan_demo_orders(*, skus: Sequence[SKU], now: datetime) -> list[PlannedOrder]:
    """The demo order history, oldest first. Same SKUs and seed give the same plan."""
    rng = random.Random(DEMO_SEED)
    picker = WeightedPicker(skus, [sku_popularity(sku.code) for sku in skus])
    prices = {sku.pk: sku.price for sku in skus}
    main, *others = CUSTOMER_ACCOUNTS
    forced = list(_FORCED_AGES_DAYS.items())
    plans = []
    for seq in range(1, DEMO_ORDER_COUNT + 1):
        if seq <= len(forced):
            outcome, (low, high) = forced[seq - 1]
            placed_at = _placed_at(rng, now, rng.uniform(low, high))
        else:
            # Squaring skews towards recent days: the work queues have something in them.
            placed_at = _placed_at(rng, now, DEMO_DAYS * rng.random() ** 2)
            outcome = choose_outcome(rng, now - placed_at)

        who = rng.random()
        if who < 0.35:
            account: AccountSpec | None = main
        elif who < 0.9:
            account = rng.choice(others)
        else:
            account = None
        if account is not None:
            contact_email = ""
            place = PLACES[CUSTOMER_ACCOUNTS.index(account) % len(PLACES)]
            if rng.random() < 0.85:  # home
                address = random_address(
                    random.Random(account.email), name=account.name, phone=account.phone,
                    place=place,
                )  # fmt: skip
            else:  # a present for someone else
                address = random_address(rng, name=random_name(rng), phone=random_mobile(rng))
        else:
            contact_email, guest_name = rng.choice(GUESTS)
            address = random_address(rng, name=guest_name, phone=random_mobile(rng))

        chosen = picker.distinct(rng, weighted(rng, LINE_COUNT_WEIGHTS))
        lines = tuple(
            services.LineRequest(sku_id=sku.pk, quantity=weighted(rng, QUANTITY_WEIGHTS))
            for sku in chosen
        )
        goods = sum((prices[line.sku_id] * line.quantity for line in lines), ZERO)
        _discount, shipping, _total = price_order(goods)
        payment_method = (
            PaymentMethod.CASH_ON_DELIVERY if rng.random() < 0.1 else PaymentMethod.ONLINE
        )
        marketplace = rng.random() < 0.15
        plans.append(
            PlannedOrder(
                seq=seq,
                customer_email=account.email if account else None,
                contact_email=contact_email,
                address=address,
                lines=lines,
                payment_method=payment_method,
                channel=Channel.MARKETPLACE if marketplace else Channel.STOREFRONT,
                # Marketplace order ids are long numbers; the sequence number keeps them unique.
                external_id=f"3{seq:05d}{rng.randrange(10**12):012d}" if marketplace else "",
                shipping_amount=shipping,
                customer_note=rng.choice(CUSTOMER_NOTES) if rng.random() < 0.12 else "",
                steps=tuple(
                    plan_timeline(
                        rng,
                        placed_at=placed_at,
                        outcome=outcome,
                        payment_method=payment_method,
                        has_customer=account is not None,
                        now=now,
                    )
                ),
            )
        )
    plans.sort(key=lambda plan: (plan.placed_at, plan.seq))
    return plans


def _walk(
    plan: PlannedOrder, order: Order, actors: dict[str, User | None], *, now: datetime
) -> None:
    """Take a freshly created order through the services, one planned step at a time."""
    for step in plan.steps[1:]:
        actor = actors[step.actor] if step.actor else None
        if step.kind == OrderEventKind.PAID:
            services.record_payment(
                order_id=order.pk, amount=order.total_amount, reference=f"SANDBOX-D{plan.seq:05d}"
            )
        elif step.kind == OrderEventKind.COD_ACCEPTED:
            services.accept_cash_on_delivery(order_id=order.pk)
        elif step.kind == OrderEventKind.PICKED:
            _pick_on_the_floor(order, actor)
        elif step.kind == OrderEventKind.SHIPPED:
            _pack_and_hand_over(plan, order, actor)
            # The carrier's scans up to now; a delivered cash-on-delivery parcel records its
            # cash, before the customer confirms receipt (ORD-4, FUL-6).
            _track_demo_parcel(plan, order.pk, now=now)
        elif step.kind == OrderEventKind.COMPLETED:
            services.complete_order(order_id=order.pk, actor=actor, reason=step.reason)
        elif step.kind == OrderEventKind.CANCELLED:
            services.cancel_order(order_id=order.pk, actor=actor, reason=step.reason)
        else:
            raise AssertionError(f"no service for a {step.kind} step")


def _pick_on_the_floor(order: Order, picker: User) -> None:
    """FUL-1, FUL-2: the order's own pick list, scanned unit by unit as a picker does."""
    for fulfillment in Fulfillment.objects.filter(order=order, state=FulfillmentState.READY):
        (wave,) = floor.create_waves(
            warehouse_id=fulfillment.warehouse_id,
            actor=picker,
            fulfillment_ids=[fulfillment.pk],
            wave_size=1,
        )
        floor.start_picking(code=wave.number, actor=picker)
        for line in floor_selectors.pick_list(wave).lines:
            for _unit in range(line.left):
                floor.record_pick_scan(wave_id=wave.pk, code=line.barcode, actor=picker)


def _pack_and_hand_over(plan: PlannedOrder, order: Order, packer: User) -> None:
    """FUL-3, FUL-5: every item scanned into a weighed parcel with the carrier's waybill
    number, then the parcel's hand-over scan."""
    carrier = Carrier.objects.get(code=plan_carrier(plan))
    rng = random.Random(DEMO_SEED * 13 + plan.seq)
    parts = Fulfillment.objects.filter(order=order, state=FulfillmentState.PICKED).order_by("pk")
    for index, fulfillment in enumerate(parts):
        for line in floor_selectors.pack_lines(fulfillment):
            for _unit in range(line.quantity - line.confirmed):
                floor.record_pack_scan(
                    fulfillment_id=fulfillment.pk, code=line.barcode, actor=packer
                )
        number = plan_tracking_number(plan)
        if index:  # a second warehouse's parcel of a split order has its own waybill
            number = f"{number[:-2]}{index:02d}"
        floor.add_parcel(
            fulfillment_id=fulfillment.pk,
            package_type=PackageType.BOX_S if fulfillment.units < 3 else PackageType.BOX_M,
            # The goods and the box: a little over the goods' weight, within the tolerance.
            weight_grams=fulfillment.expected_weight_grams + rng.randrange(40, 120),
            carrier_id=carrier.pk,
            service=ShippingService.EXPRESS,
            tracking_number=number,
            weight_confirmed=True,
            actor=packer,
        )
        floor.record_hand_over(code=number, actor=packer)


def _backdate_floor(plan: PlannedOrder, order_id: int) -> None:
    """Move the order's floor work (pick list, scans, parcels) to the planned times, so that
    the per-picker and per-packer figures read like the last 90 days. Orders stopped on the
    floor long ago had their goods put back the same day."""
    at = {step.kind: step.at for step in plan.steps}
    released = at.get(OrderEventKind.PAID) or at.get(OrderEventKind.COD_ACCEPTED)
    if released is None:
        return
    picked, shipped = at.get(OrderEventKind.PICKED), at.get(OrderEventKind.SHIPPED)
    packed = picked + (shipped - picked) / 2 if picked and shipped else None
    parts = Fulfillment.objects.filter(order_id=order_id)
    parts.update(released_at=released, picked_at=picked, packed_at=packed, shipped_at=shipped)
    if picked:
        Wave.objects.filter(fulfillments__order_id=order_id).update(
            created_at=picked - timedelta(minutes=25),
            started_at=picked - timedelta(minutes=20),
            finished_at=picked,
        )
        FloorActivity.objects.filter(fulfillment__order_id=order_id, kind=ActivityKind.PICK).update(
            at=picked
        )
    if packed:
        FloorActivity.objects.filter(fulfillment__order_id=order_id, kind=ActivityKind.PACK).update(
            at=packed
        )
        Parcel.objects.filter(fulfillment__order_id=order_id).update(
            packed_at=packed, handed_over_at=shipped
        )
        FloorActivity.objects.filter(
            fulfillment__order_id=order_id, kind=ActivityKind.HAND_OVER
        ).update(at=shipped)
    cancelled = at.get(OrderEventKind.CANCELLED)
    if cancelled:
        parts.filter(state=FulfillmentState.CANCELLED).update(
            cancelled_at=cancelled, put_back_at=cancelled + timedelta(hours=1)
        )


def _backdate(plan: PlannedOrder, order_id: int) -> None:
    """Move an order and its events to the planned times.

    Events are matched to planned steps by kind, in order; an event the plan does not know
    (one a service may add in future) keeps its place a second after the one before it.
    """
    steps = list(plan.steps)
    previous = plan.placed_at
    with transaction.atomic():
        events = OrderEvent.objects.filter(order_id=order_id).order_by("id")
        for event_id, kind in events.values_list("id", "kind"):
            if steps and kind == steps[0].kind:
                previous = steps.pop(0).at
            else:
                previous += timedelta(seconds=1)
            OrderEvent.objects.filter(pk=event_id).update(created_at=previous)
        Order.objects.filter(pk=order_id).update(
            updated_at=previous, **timestamps_from_steps(plan.steps)
        )
        # Cash collected on delivery is recorded by the delivered scan: at the delivery.
        delivered = Shipment.objects.filter(order_id=order_id).aggregate(at=Max("delivered_at"))
        if delivered["at"] and OrderEvent.objects.filter(
            order_id=order_id, kind=OrderEventKind.CASH_COLLECTED
        ).update(created_at=delivered["at"]):
            Order.objects.filter(pk=order_id).update(paid_at=delivered["at"])


# Carriers of the demo parcels, the busiest first (codes of orders/migrations/0006_carriers.py).
DEMO_CARRIERS = {"ZTO": 30, "YTO": 20, "YD": 18, "SF": 15, "STO": 10, "JD": 5, "EMS": 2}
DEMO_TRACKING_PREFIX = {"SF": "SF", "ZTO": "7731", "YTO": "YT", "YD": "4312",
                        "STO": "7788", "JD": "JDVA", "EMS": "9801"}  # fmt: skip


def plan_carrier(plan: PlannedOrder) -> str:
    return weighted(random.Random(DEMO_SEED + plan.seq), DEMO_CARRIERS)


def plan_tracking_number(plan: PlannedOrder) -> str:
    carrier = plan_carrier(plan)
    rng = random.Random(DEMO_SEED * 7 + plan.seq)
    return f"{DEMO_TRACKING_PREFIX[carrier]}{plan.seq:05d}{rng.randrange(10**8):08d}"


def _track_demo_parcel(plan: PlannedOrder, order_id: int, *, now: datetime) -> None:
    """Move the demo order's parcel to its planned hand-over and give it the carrier's scans
    from there: collected, in transit, out for delivery and, for completed orders, delivered
    before the receipt was confirmed. Scans still in the future are left out."""
    at = {step.kind: step.at for step in plan.steps}
    shipped_at = at.get(OrderEventKind.SHIPPED)
    if shipped_at is None:
        return
    shipment = Shipment.objects.filter(order_id=order_id).order_by("pk").first()
    Shipment.objects.filter(order_id=order_id).update(
        shipped_at=shipped_at,
        created_at=shipped_at,
        expected_delivery=timezone.localdate(shipped_at) + timedelta(days=2),
    )
    rng = random.Random(DEMO_SEED * 11 + plan.seq)
    city, district = plan.address.city, plan.address.district
    completed_at = at.get(OrderEventKind.COMPLETED)
    end = min(completed_at or now, now)
    scans = [
        (timedelta(hours=rng.uniform(0.5, 3)), TrackingStatus.COLLECTED,
         "杭州余杭区仓前营业部", "快件已被揽收"),
        (timedelta(hours=rng.uniform(5, 12)), TrackingStatus.IN_TRANSIT,
         "杭州转运中心", "快件已到达杭州转运中心,正发往下一站"),
        (timedelta(hours=rng.uniform(18, 30)), TrackingStatus.IN_TRANSIT,
         f"{city}转运中心", f"快件已到达{city}转运中心"),
        (timedelta(hours=rng.uniform(32, 40)), TrackingStatus.OUT_FOR_DELIVERY,
         f"{city}{district}营业部", "快件交给派送员,正在派送途中"),
        (timedelta(hours=rng.uniform(41, 48)), TrackingStatus.DELIVERED,
         f"{city}{district}", "快件已签收,感谢使用"),
    ]  # fmt: skip
    previous = shipped_at
    for delay, status, location, description in scans:
        occurred_at = shipped_at + delay
        if status == TrackingStatus.DELIVERED and completed_at is None:
            break  # still on its way: the customer has not confirmed receipt
        if occurred_at >= end:
            if completed_at is None:
                break
            # Receipt confirmed sooner than the usual journey: delivered just before that.
            status, location, description = scans[-1][1:]
            occurred_at = previous + (completed_at - previous) / 2
        shipments.add_tracking_event(
            shipment_id=shipment.pk,
            occurred_at=occurred_at,
            status=status,
            location=location,
            description=description,
        )
        previous = occurred_at
        if status == TrackingStatus.DELIVERED:
            break


def _demo_seqs_present() -> set[int]:
    return set(
        OrderEvent.objects.filter(
            kind=OrderEventKind.PLACED, details__has_key=DEMO_MARKER
        ).values_list(f"details__{DEMO_MARKER}", flat=True)
    )


def seed_demo_orders(
    *, accounts: DemoAccounts, skus: Sequence[SKU], now: datetime | None = None
) -> int:
    """Create the planned demo orders that do not exist yet; return how many were created.

    Each order is placed with `create_order` and walked with the transition services (staff
    steps by the demo staff accounts), then given a number from the day it was placed, and its
    timestamps and events are moved into the past. The "placed" event records the order's
    sequence number under `DEMO_MARKER`, which is how a rerun knows it is there.
    """
    now = now or timezone.now()
    users = accounts.by_email()
    done = _demo_seqs_present()
    created = 0
    for plan in plan_demo_orders(skus=skus, now=now):
        if plan.seq in done:
            continue
        customer = users[plan.customer_email] if plan.customer_email else None
        _restock_for(plan.lines)
        order = services.create_order(
            customer=customer,
            contact_email=plan.contact_email,
            lines=plan.lines,
            address=plan.address,
            payment_method=plan.payment_method,
            channel=plan.channel,
            external_id=plan.external_id,
            shipping_amount=plan.shipping_amount,
            customer_note=plan.customer_note,
        )
        with transaction.atomic():
            (number,) = allocate_order_numbers(1, day=timezone.localdate(plan.placed_at))
            Order.objects.filter(pk=order.pk).update(number=number)
            OrderEvent.objects.filter(order=order, kind=OrderEventKind.PLACED).update(
                details={DEMO_MARKER: plan.seq}
            )
        actors: dict[str, User | None] = {
            "customer": customer,
            "warehouse": accounts.staff[Role.WAREHOUSE],
            "service": accounts.staff[Role.SERVICE],
        }
        _walk(plan, order, actors, now=now)
        _backdate(plan, order.pk)
        _backdate_floor(plan, order.pk)
        created += 1
    return created


# =============================================================================================
# Payment deadline in action (ORD-5): a reminder and an auto-cancel within minutes of `make run`
# =============================================================================================

# Key in the "placed" event's details of the two unpaid orders below.
DEADLINE_DEMO_MARKER = "demo_deadline"


def seed_deadline_demo_orders(
    *, accounts: DemoAccounts, skus: Sequence[SKU], now: datetime | None = None
) -> int:
    """Two unpaid online orders of customer@example.com placed just before the deadlines of
    `orders.schedules`, so that beat visibly reminds one and cancels one soon after seeding:

    - "reminder": its reminder falls due about two minutes from now (and its cancellation at
      PAYMENT_REMINDER_MINUTES_BEFORE later);
    - "cancel": already inside its reminder window (reminded at beat's first run), cancelled
      about four minutes from now.

    With the dev settings (15-minute deadline, reminder 5 minutes before) both are cancelled
    within ten minutes. Each is made again by a later run once the previous one is no longer
    awaiting payment; returns how many were made.
    """
    now = now or timezone.now()
    deadline = timedelta(minutes=settings.PAYMENT_DEADLINE_MINUTES)
    reminder_lead = timedelta(minutes=settings.PAYMENT_REMINDER_MINUTES_BEFORE)
    ages = {
        "reminder": max(deadline - reminder_lead - timedelta(minutes=2), timedelta(0)),
        "cancel": max(deadline - timedelta(minutes=4), timedelta(0)),
    }
    waiting = set(
        OrderEvent.objects.filter(
            kind=OrderEventKind.PLACED,
            details__has_key=DEADLINE_DEMO_MARKER,
            order__state=OrderState.PENDING_PAYMENT,
        ).values_list(f"details__{DEADLINE_DEMO_MARKER}", flat=True)
    )
    customer = accounts.customers[0]
    spec = CUSTOMER_ACCOUNTS[0]
    on_sale = sorted((sku for sku in skus if sku.is_active), key=lambda sku: sku.code)
    made = 0
    for index, (kind, age) in enumerate(ages.items()):
        if kind in waiting or not on_sale:
            continue
        sku = on_sale[index % len(on_sale)]
        lines = [services.LineRequest(sku_id=sku.pk, quantity=1)]
        _restock_for(lines)
        _discount, shipping, _total = price_order(sku.price)
        order = services.create_order(
            customer=customer,
            lines=lines,
            address=random_address(
                random.Random(spec.email), name=spec.name, phone=spec.phone, place=PLACES[0]
            ),
            payment_method=PaymentMethod.ONLINE,
            shipping_amount=shipping,
        )
        placed_at = now - age
        with transaction.atomic():
            (number,) = allocate_order_numbers(1, day=timezone.localdate(placed_at))
            Order.objects.filter(pk=order.pk).update(
                number=number, created_at=placed_at, updated_at=placed_at
            )
            OrderEvent.objects.filter(order=order, kind=OrderEventKind.PLACED).update(
                created_at=placed_at, details={DEADLINE_DEMO_MARKER: kind}
            )
        made += 1
    return made


# =============================================================================================
# The service desk's exception queue (ORD-6): two paid orders the audit holds
# =============================================================================================

EXCEPTION_DEMO_MARKER = "demo_exception"


def seed_exception_demo_orders(*, accounts: DemoAccounts, skus: Sequence[SKU]) -> int:
    """Two orders of customer@example.com, paid just now and held by the automated audit, so
    that the service desk has exceptions to work on: one with a buyer note asking to be called,
    and the same items ordered again to the same address minutes later (a near-duplicate).
    Made once; returns how many were made."""
    if OrderEvent.objects.filter(
        kind=OrderEventKind.PLACED, details__has_key=EXCEPTION_DEMO_MARKER
    ).exists():
        return 0
    on_sale = sorted((sku for sku in skus if sku.is_active), key=lambda sku: sku.code)
    if not on_sale:
        return 0
    customer = accounts.customers[0]
    spec = CUSTOMER_ACCOUNTS[0]
    address = random_address(
        random.Random(spec.email), name=spec.name, phone=spec.phone, place=PLACES[0]
    )
    sku = on_sale[len(on_sale) // 2]
    lines = [services.LineRequest(sku_id=sku.pk, quantity=1)]
    made = 0
    for kind, note in (("note", "到了请先打电话联系我，白天家里没人"), ("duplicate", "")):
        _restock_for(lines)
        _discount, shipping, _total = price_order(sku.price)
        order = services.create_order(
            customer=customer,
            lines=lines,
            address=address,
            payment_method=PaymentMethod.ONLINE,
            shipping_amount=shipping,
            customer_note=note,
        )
        OrderEvent.objects.filter(order=order, kind=OrderEventKind.PLACED).update(
            details={EXCEPTION_DEMO_MARKER: kind}
        )
        services.record_payment(
            order_id=order.pk, amount=order.total_amount, reference=f"SANDBOX-EX-{kind}"
        )
        # One time for the payment, as the demo history has (its timeline is checked so).
        paid = OrderEvent.objects.get(order=order, kind=OrderEventKind.PAID).created_at
        Order.objects.filter(pk=order.pk).update(paid_at=paid)
        made += 1
    return made


DEMO_STORE_CODE = "tmall-flagship"


def seed_stores() -> Store:
    """A marketplace store with the default (Tmall-style) column mapping, for the import
    screen, holding the demo history's marketplace orders (ORD-12). Idempotent."""
    store, _created = Store.objects.get_or_create(
        code=DEMO_STORE_CODE,
        defaults={"name": "天猫旗舰店 Tmall flagship", "kind": StoreKind.MARKETPLACE},
    )
    Order.objects.filter(
        channel=Channel.MARKETPLACE,
        store__isnull=True,
        events__kind=OrderEventKind.PLACED,
        events__details__has_key=DEMO_MARKER,
    ).update(store=store)
    return store


WAITING_DEMO_MARKER = "demo_waiting"


def seed_waiting_demo_order(*, accounts: DemoAccounts, skus: Sequence[SKU]) -> int:
    """A cash-on-delivery order of the second demo customer for two more units of the
    scarcest SKU than are in stock (INV-5): what is there is reserved, the rest waits, and the
    order stays out of the warehouse queue until an agent ships what is there, drops the rest
    or substitutes it — or the stock arrives. Made once; returns how many were made."""
    if OrderEvent.objects.filter(
        kind=OrderEventKind.PLACED, details__has_key=WAITING_DEMO_MARKER
    ).exists():
        return 0
    on_sale = [sku for sku in skus if sku.is_active]
    available = inventory_selectors.availability(sku_ids=[sku.pk for sku in on_sale])
    in_stock = sorted(
        (sku for sku in on_sale if available.get(sku.pk, 0) > 0),
        key=lambda sku: (available[sku.pk], sku.code),
    )
    if not in_stock:
        return 0
    sku = in_stock[0]
    customer = accounts.customers[min(1, len(accounts.customers) - 1)]
    spec = CUSTOMER_ACCOUNTS[min(1, len(CUSTOMER_ACCOUNTS) - 1)]
    address = random_address(
        random.Random(spec.email), name=spec.name, phone=spec.phone, place=PLACES[1]
    )
    quantity = available[sku.pk] + 2
    _discount, shipping, _total = price_order(sku.price * quantity)
    order = services.create_order(
        customer=customer,
        lines=[services.LineRequest(sku_id=sku.pk, quantity=quantity)],
        address=address,
        payment_method=PaymentMethod.CASH_ON_DELIVERY,
        shipping_amount=shipping,
        allow_backorder=True,
    )
    OrderEvent.objects.filter(order=order, kind=OrderEventKind.PLACED).update(
        details={WAITING_DEMO_MARKER: True}
    )
    services.accept_cash_on_delivery(order_id=order.pk)
    return 1


# =============================================================================================
# seed_demo as a whole
# =============================================================================================


@dataclass
class DemoResult:
    orders_created: int
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    orders_by_state: dict[str, int] = field(default_factory=dict)


def seed_base() -> tuple[DemoAccounts, list[SKU]]:
    """Roles, demo accounts and catalogue: what both seed commands need."""
    ensure_demo_data_allowed()
    seed_roles()
    return seed_accounts(), seed_catalogue()


# =============================================================================================
# Warehouses, bins and opening stock (INV-2, INV-6, INV-7)
# =============================================================================================


@dataclass(frozen=True)
class WarehouseSpec:
    code: str
    name: str
    province: str
    city: str
    address: str
    serves: tuple[str, ...]  # delivery provinces, in the order of this warehouse's priority


WAREHOUSES = (
    WarehouseSpec(
        "HZ1",
        "杭州仓 Hangzhou",
        "浙江省",
        "杭州市",
        "余杭区仓前街道 1 号",
        ("浙江省", "上海市", "江苏省", "安徽省", "江西省", "福建省"),
    ),
    WarehouseSpec(
        "GZ1",
        "广州仓 Guangzhou",
        "广东省",
        "广州市",
        "白云区太和镇 8 号",
        ("广东省", "广西壮族自治区", "海南省", "湖南省", "福建省", "云南省", "贵州省"),
    ),
    WarehouseSpec(
        "BJ1",
        "北京仓 Beijing",
        "北京市",
        "北京市",
        "大兴区亦庄 18 号",
        ("北京市", "天津市", "河北省", "山东省", "山西省", "辽宁省", "吉林省", "黑龙江省"),
    ),
)
OPENING_STOCK = ("opening_stock", "demo")


def demo_bin_codes() -> list[str]:
    """30 bins per warehouse: zones A and B, aisles 01–03, levels 01–05 (A-01-01 …)."""
    return [
        f"{zone}-{aisle:02d}-{level:02d}"
        for zone in "AB"
        for aisle in range(1, 4)
        for level in range(1, 6)
    ]


def seed_inventory(skus: Sequence[SKU]) -> None:
    """Three warehouses with bins and region priorities, opening stock for the catalogue
    (received through the inventory services, so the ledger balances) and low-stock
    thresholds. Idempotent: the opening stock is received once."""
    rng = random.Random(4242)
    warehouses = {}
    for spec in WAREHOUSES:
        warehouse, _created = Warehouse.objects.get_or_create(
            code=spec.code,
            defaults={
                "name": spec.name,
                "province": spec.province,
                "city": spec.city,
                "address": spec.address,
            },
        )
        warehouses[spec.code] = warehouse
        for priority, province in enumerate(spec.serves, start=1):
            RegionPriority.objects.get_or_create(
                province=province, warehouse=warehouse, defaults={"priority": priority}
            )
        for walk, code in enumerate(demo_bin_codes()):
            Bin.objects.get_or_create(
                warehouse=warehouse, code=code, defaults={"walk_order": walk * 10}
            )
    if StockMovement.objects.filter(
        reference_type=OPENING_STOCK[0], reference_id=OPENING_STOCK[1]
    ).exists():
        return
    bins = {
        code: list(Bin.objects.filter(warehouse=w, is_staging=False).order_by("walk_order"))
        for code, w in warehouses.items()
    }
    with transaction.atomic():
        for sku in skus:
            if not sku.is_active:
                continue
            roll = rng.random()
            if roll < 0.06:
                continue  # sold out everywhere: shows on the stock-out list
            if roll < 0.16:
                StockThreshold.objects.get_or_create(
                    sku=sku, warehouse=None, defaults={"threshold": 20}
                )
            for code in ("HZ1", "GZ1", "BJ1"):
                if code != "HZ1" and rng.random() < 0.4:
                    continue
                quantity = rng.randint(3, 15) if roll < 0.16 else rng.randint(20, 160)
                inventory_services.receive(
                    sku_id=sku.pk,
                    bin_id=rng.choice(bins[code]).pk,
                    quantity=quantity,
                    reference=OPENING_STOCK,
                    reason="Opening stock",
                )


def _restock_for(lines: Sequence[services.LineRequest]) -> None:
    """A delivery into Hangzhou's first bin of whatever a demo order needs and stock lacks,
    so that every demo order can reserve its stock as a real one does."""
    wanted: dict[int, int] = {}
    for line in lines:
        wanted[line.sku_id] = wanted.get(line.sku_id, 0) + line.quantity
    free = inventory_selectors.availability(sku_ids=wanted)
    short = {
        sku_id: units - free[sku_id] for sku_id, units in wanted.items() if free[sku_id] < units
    }
    if short:
        bin_ = Bin.objects.filter(warehouse__code="HZ1", is_staging=False).order_by("walk_order")[0]
        inventory_services.receive_many(
            lines=[(sku_id, bin_.pk, units + 20) for sku_id, units in short.items()],
            reference=("receipt", "demo restock"),
            reason="Restock",
        )


# =============================================================================================
# Checkout: shipping rules, promotions, address books
# =============================================================================================

REMOTE_PROVINCES = ["新疆维吾尔自治区", "西藏自治区", "青海省", "内蒙古自治区"]


def seed_checkout(accounts: DemoAccounts, *, now: datetime) -> None:
    """Shipping rules, a 满减 and two coupons, and an address book for each demo customer.
    Idempotent: found by name or code, and left as they are if a person changed them."""
    from addresses import services as address_services
    from addresses.models import Address
    from checkout.models import ShippingRule
    from promotions.models import Coupon, CouponKind, ThresholdDiscount

    ShippingRule.objects.get_or_create(
        name="标准快递 Standard",
        defaults={
            "first_fee": Decimal("10.00"),
            "step_fee": Decimal("5.00"),
            "free_over": Decimal("99.00"),
        },
    )
    ShippingRule.objects.get_or_create(
        name="偏远地区 Remote regions",
        defaults={
            "provinces": REMOTE_PROVINCES,
            "first_fee": Decimal("20.00"),
            "step_fee": Decimal("10.00"),
            "free_over": Decimal("299.00"),
            "priority": 10,
        },
    )
    window = {"starts_at": now - timedelta(days=30), "ends_at": now + timedelta(days=365)}
    ThresholdDiscount.objects.get_or_create(
        name="满199减20",
        defaults={
            "threshold": DISCOUNT_FROM,
            "amount_off": THRESHOLD_DISCOUNT,
            "repeat": True,
            "max_times": 3,
            **window,
        },
    )
    Coupon.objects.get_or_create(
        code="WELCOME10",
        defaults={
            "name": "新客立减 10 元 Welcome ¥10 off",
            "kind": CouponKind.FIXED,
            "value": Decimal("10.00"),
            "min_spend": Decimal("59.00"),
            "per_customer_limit": 1,
            **window,
        },
    )
    Coupon.objects.get_or_create(
        code="TEA15",
        defaults={
            "name": "全场 85 折 15% off, up to ¥50",
            "kind": CouponKind.PERCENT,
            "value": Decimal("15"),
            "max_discount": Decimal("50.00"),
            "min_spend": Decimal("100.00"),
            "usage_limit": 500,
            "per_customer_limit": 2,
            "stacks_with_threshold": False,
            **window,
        },
    )
    with_addresses = set(
        Address.objects.filter(customer__in=accounts.customers).values_list(
            "customer_id", flat=True
        )
    )
    for index, customer in enumerate(accounts.customers):
        if customer.pk in with_addresses:
            continue
        place = PLACES[index % len(PLACES)]
        address_services.create_address(
            customer=customer,
            data={
                "label": "家",
                "recipient_name": customer.get_full_name() or customer.email.split("@")[0],
                "recipient_phone": customer.phone or "13800138000",
                "province": place.province,
                "city": place.city,
                "district": place.district,
                "address_line": f"{place.streets[0]} {100 + index} 号",
                "postcode": place.postcode,
                "is_default": True,
            },
        )


def seed_carriers() -> None:
    """The demo ships with SF through the sandbox carrier: packers may leave the tracking
    number empty and get one (FUL-3). The other carriers' numbers are typed from waybills."""
    if not Carrier.objects.filter(is_default=True).exists():
        Carrier.objects.filter(code="SF").update(
            integration=CarrierIntegration.SANDBOX, is_default=True
        )


def seed_demo(*, now: datetime | None = None) -> DemoResult:
    """Everything `manage.py seed_demo` creates. Idempotent; refuses in production."""
    started = time.perf_counter()
    accounts, skus = seed_base()
    seed_inventory(skus)
    seed_checkout(accounts, now=now or timezone.now())
    seed_carriers()
    # The history's messages are recorded as sent, not mailed: only the live demo orders
    # below (reminded and cancelled by beat within minutes) send anything.
    with recorded_as_history():
        created = seed_demo_orders(accounts=accounts, skus=skus, now=now)
    seed_deadline_demo_orders(accounts=accounts, skus=skus, now=now)
    with recorded_as_history():
        seed_exception_demo_orders(accounts=accounts, skus=skus)
        seed_waiting_demo_order(accounts=accounts, skus=skus)
    seed_stores()
    seed_demo_feedback(
        orders=Order.objects.filter(
            events__kind=OrderEventKind.PLACED, events__details__has_key=DEMO_MARKER
        )
    )
    demo_emails = [spec.email for spec in (*STAFF_ACCOUNTS, *CUSTOMER_ACCOUNTS)]
    demo_orders = Order.objects.filter(
        events__kind=OrderEventKind.PLACED, events__details__has_key=DEMO_MARKER
    )
    return DemoResult(
        orders_created=created,
        seconds=time.perf_counter() - started,
        counts={
            "demo accounts": User.objects.filter(email__in=demo_emails).count(),
            "categories": Category.objects.count(),
            "products": Product.objects.count(),
            "SKUs": SKU.objects.count(),
            "warehouses": Warehouse.objects.count(),
            "bins": Bin.objects.count(),
            "demo orders": demo_orders.count(),
        },
        orders_by_state=dict(
            demo_orders.values_list("state").annotate(n=Count("id")).order_by("state")
        ),
    )


def model_counts() -> dict[str, int]:
    """Rows per model, for every installed model (what "idempotent" is checked against)."""
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


# =============================================================================================
# Bulk orders for benchmarks
# =============================================================================================

BULK_CUSTOMER_EMAIL = "shopper{:05d}@example.com"
DISCOUNT_FROM = Decimal("199.00")
THRESHOLD_DISCOUNT = Decimal("20.00")
# Promotion days (month, day) with many times the usual orders: 618 and Double 11.
PROMOTION_DAYS = {(6, 18): 6.0, (11, 11): 10.0, (12, 12): 3.0}


@dataclass(frozen=True)
class BulkCustomer:
    id: int | None  # None: a guest
    email: str
    name: str
    phone: str
    place: Place


@dataclass
class BulkResult:
    orders: int = 0
    lines: int = 0
    events: int = 0
    setup_seconds: float = 0.0
    insert_seconds: float = 0.0
    orders_by_state: dict[str, int] = field(default_factory=dict)

    @property
    def orders_per_second(self) -> float:
        return self.orders / self.insert_seconds if self.insert_seconds else 0.0


class RowInserter:
    """Inserts rows of one model given as tuples of the named attributes.

    `bulk_create` spends most of its time preparing each value through the field machinery;
    here only datetime and JSON columns are adapted, and every column not named gets the
    field's default (computed once), so a field added to the model later still gets a value.
    PostgreSQL gets the rows through `COPY` (one round trip, not one per row); SQLite, which
    runs in-process, through `executemany`.
    """

    def __init__(self, model: type[models.Model], attnames: Sequence[str]):
        fields = {f.attname: f for f in model._meta.concrete_fields if not f.primary_key}
        named = [fields[name] for name in attnames]
        rest = [f for name, f in fields.items() if name not in attnames]
        now = timezone.now()
        self.defaults = tuple(
            f.get_db_prep_save(
                now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                else f.get_default(),
                connection,
            )
            for f in rest
        )  # fmt: skip
        self.adapters: list[tuple[int, Callable]] = []
        for index, f in enumerate(named):
            if isinstance(f, models.DateTimeField):
                self.adapters.append((index, connection.ops.adapt_datetimefield_value))
            elif isinstance(f, models.JSONField):
                self.adapters.append((index, partial(f.get_db_prep_save, connection=connection)))
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        columns = ", ".join(quote(f.column) for f in (*named, *rest))
        placeholders = ", ".join(["%s"] * (len(named) + len(rest)))
        self.use_copy = connection.vendor == "postgresql"
        if self.use_copy:
            self.sql = f"COPY {table} ({columns}) FROM STDIN"
        else:
            self.sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"

    def insert(self, rows: Sequence[Sequence]) -> None:
        prepared = []
        for row in rows:
            values = list(row)
            for index, adapt in self.adapters:
                values[index] = adapt(values[index])
            prepared.append((*values, *self.defaults))
        with connection.cursor() as cursor:
            if self.use_copy:
                with cursor.copy(self.sql) as copy:
                    for values in prepared:
                        copy.write_row(values)
            else:
                cursor.executemany(self.sql, prepared)


ORDER_COLUMNS = (
    "number", "customer_id", "contact_email", "channel", "external_id", "recipient_name",
    "recipient_phone", "province", "city", "district", "address_line", "postcode",
    "customer_note", "payment_method", "goods_amount", "discount_amount", "shipping_amount",
    "total_amount", "paid_amount", "state", "created_at", "paid_at", "shipped_at",
    "completed_at", "cancelled_at",
)  # fmt: skip
LINE_COLUMNS = (
    "order_id", "sku_id", "product_name", "sku_code", "variant_label", "unit_price", "quantity",
    "discount_amount",
)  # fmt: skip
EVENT_COLUMNS = (
    "order_id", "created_at", "actor_id", "kind", "from_state", "to_state", "reason", "details",
)  # fmt: skip


@dataclass
class _BulkOrder:
    """One order of a batch before it is inserted: its row, its lines' rows, its timeline."""

    row: tuple  # in ORDER_COLUMNS order
    customer_id: int | None
    total: Decimal
    lines: list[tuple]  # LINE_COLUMNS without the leading order_id
    steps: list[Step]


def ensure_bulk_customers(count: int, accounts: DemoAccounts) -> list[BulkCustomer]:
    """The demo customers plus `count` "shopperNNNNN@example.com" customers (password demo1234),
    created in bulk where missing."""
    wanted = [BULK_CUSTOMER_EMAIL.format(n) for n in range(1, count + 1)]
    existing = dict(User.objects.filter(email__in=wanted).values_list("email", "id"))
    profiles = {}
    new_users = []
    for n, email in enumerate(wanted, start=1):
        rng = random.Random(email)
        profiles[email] = (random_name(rng), random_mobile(rng), PLACES[n % len(PLACES)])
        if email not in existing:
            name, phone, _place = profiles[email]
            new_users.append(User(email=email, first_name=name, phone=phone))
    if new_users:
        password_hash = make_password(DEMO_PASSWORD)
        for user in new_users:
            user.password = password_hash
        with transaction.atomic():
            User.objects.bulk_create(new_users, batch_size=1000)
            existing = dict(User.objects.filter(email__in=wanted).values_list("email", "id"))
            group = Group.objects.get(name=Role.CUSTOMER)
            User.groups.through.objects.bulk_create(
                [User.groups.through(user_id=existing[u.email], group=group) for u in new_users],
                batch_size=1000,
                ignore_conflicts=True,
            )
    customers = [
        BulkCustomer(user.pk, user.email, user.first_name or user.email, user.phone,
                     PLACES[i % len(PLACES)])
        for i, user in enumerate(accounts.customers)
    ]  # fmt: skip
    customers += [BulkCustomer(existing[email], email, *profiles[email]) for email in wanted]
    return customers


def _day_weights(days: int, today: date) -> list[float]:
    """Relative order volume per day, oldest first: steady growth, busier weekends and
    promotion days."""
    weights = []
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        weight = 1.0 + 1.5 * (days - back) / days
        if day.weekday() >= 5:
            weight *= 1.3
        weight *= PROMOTION_DAYS.get((day.month, day.day), 1.0)
        weights.append(weight)
    return weights


def _placement_times(rng: random.Random, count: int, days: int, now: datetime) -> list[float]:
    """`count` sorted POSIX timestamps in the last `days` days, shaped like real traffic."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate(now)
    first = today - timedelta(days=days - 1)
    midnights = [
        datetime.combine(first + timedelta(days=i), datetime.min.time(), tzinfo=tz).timestamp()
        for i in range(days)
    ]
    day_of = rng.choices(range(days), weights=_day_weights(days, today), k=count)
    hour_of = rng.choices(range(24), weights=HOUR_WEIGHTS, k=count)
    latest = now.timestamp() - 60
    times = []
    uniform = rng.random
    for day, hour in zip(day_of, hour_of, strict=True):
        moment = midnights[day] + (hour + uniform()) * 3600
        if moment > latest:  # later today: squeeze into the part of today already gone
            moment = midnights[day] + (latest - midnights[day]) * uniform()
        times.append(moment)
    times.sort()
    return times


def insert_bulk_orders(
    *,
    count: int,
    batch_size: int = 5000,
    days: int = 365,
    seed: int = 1,
    guest_share: float = 0.08,
    progress: Callable[[int, int], None] | None = None,
) -> BulkResult:
    """Insert `count` orders placed over the last `days` days, fast (benchmarks, FUL-7).

    Each batch is one transaction: numbers for each day of the batch from
    `allocate_order_numbers`, then the orders, their lines and the events of each order's
    timeline. Amounts satisfy the Order check constraints; states follow the timeline. Needs the
    demo catalogue and accounts, which it creates if missing (not counted in the rate).
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    started = time.perf_counter()
    accounts, skus = seed_base()
    if not skus:
        raise DemoDataRefused("There are no SKUs on sale to order.")
    customers = ensure_bulk_customers(min(5000, max(100, count // 20)), accounts)
    staff_ids = {
        "warehouse": accounts.staff[Role.WAREHOUSE].pk,
        "service": accounts.staff[Role.SERVICE].pk,
    }
    rng = random.Random(seed)
    now = timezone.now()
    tz = timezone.get_current_timezone()
    sku_picker = WeightedPicker(skus, [sku_popularity(sku.code) for sku in skus])
    times = _placement_times(rng, count, days, now)
    inserters = (
        RowInserter(Order, ORDER_COLUMNS),
        RowInserter(OrderLine, LINE_COLUMNS),
        RowInserter(OrderEvent, EVENT_COLUMNS),
    )
    result = BulkResult(setup_seconds=time.perf_counter() - started)

    insert_started = time.perf_counter()
    for start in range(0, count, batch_size):
        batch = [datetime.fromtimestamp(ts, tz=tz) for ts in times[start : start + batch_size]]
        with transaction.atomic():
            lines, events = _insert_batch(
                rng, batch, now=now, customers=customers, sku_picker=sku_picker,
                staff_ids=staff_ids, guest_share=guest_share, inserters=inserters, result=result,
            )  # fmt: skip
        result.orders += len(batch)
        result.lines += lines
        result.events += events
        if progress:
            progress(result.orders, count)
    result.insert_seconds = time.perf_counter() - insert_started
    return result


def _insert_batch(
    rng: random.Random,
    batch: Sequence[datetime],
    *,
    now: datetime,
    customers: Sequence[BulkCustomer],
    sku_picker: WeightedPicker,
    staff_ids: dict[str, int],
    guest_share: float,
    inserters: tuple[RowInserter, RowInserter, RowInserter],
    result: BulkResult,
) -> tuple[int, int]:
    """Insert one batch of orders placed at the (sorted) `batch` times; return lines, events."""
    order_inserter, line_inserter, event_inserter = inserters
    # Consecutive numbers per day, so that each day's orders are found again by number range.
    day_ranges: list[tuple[str, str]] = []
    numbers: list[str] = []
    for day, moments in groupby(batch, key=lambda moment: moment.date()):
        day_numbers = allocate_order_numbers(sum(1 for _ in moments), day=day)
        day_ranges.append((day_numbers[0], day_numbers[-1]))
        numbers += day_numbers
    orders = [
        _bulk_order(
            rng,
            placed_at=placed_at,
            number=number,
            now=now,
            customers=customers,
            sku_picker=sku_picker,
            guest_share=guest_share,
        )
        for placed_at, number in zip(batch, numbers, strict=True)
    ]
    order_inserter.insert([order.row for order in orders])
    ids: dict[str, int] = {}
    for first, last in day_ranges:
        ids.update(Order.objects.filter(number__range=(first, last)).values_list("number", "id"))

    line_rows: list[tuple] = []
    event_rows: list[tuple] = []
    for number, order in zip(numbers, orders, strict=True):
        order_id = ids[number]
        line_rows += [(order_id, *line) for line in order.lines]
        for step in order.steps:
            if step.actor == "customer":
                actor_id = order.customer_id
            else:
                actor_id = staff_ids[step.actor] if step.actor else None
            details = (
                {"amount": str(order.total), "reference": f"SANDBOX-B{number}"}
                if step.kind == OrderEventKind.PAID
                else {}
            )
            event_rows.append(
                (order_id, step.at, actor_id, step.kind, step.from_state, step.to_state,
                 step.reason, details)
            )  # fmt: skip
        state = order.steps[-1].to_state
        result.orders_by_state[state] = result.orders_by_state.get(state, 0) + 1
    line_inserter.insert(line_rows)
    event_inserter.insert(event_rows)
    return len(line_rows), len(event_rows)


def _bulk_order(
    rng: random.Random,
    *,
    placed_at: datetime,
    number: str,
    now: datetime,
    customers: Sequence[BulkCustomer],
    sku_picker: WeightedPicker,
    guest_share: float,
) -> _BulkOrder:
    """One order with its lines and planned timeline, as rows to insert."""
    if rng.random() < guest_share:
        customer = BulkCustomer(
            None, f"guest{rng.randrange(10**6):06d}@example.net", random_name(rng),
            random_mobile(rng), rng.choice(PLACES),
        )  # fmt: skip
    else:
        customer = rng.choice(customers)
    payment_method = PaymentMethod.CASH_ON_DELIVERY if rng.random() < 0.1 else PaymentMethod.ONLINE
    channel_roll = rng.random()
    if channel_roll < 0.8:
        channel, external_id = Channel.STOREFRONT, ""
    else:
        channel = Channel.MARKETPLACE if channel_roll < 0.97 else Channel.API
        # Unique because the order number is, and as long as a marketplace's own ids.
        external_id = f"{number}{rng.randrange(1000):03d}"

    lines = []
    goods = ZERO
    for sku in sku_picker.distinct(rng, weighted(rng, LINE_COUNT_WEIGHTS)):
        quantity = weighted(rng, QUANTITY_WEIGHTS)
        goods += sku.price * quantity
        lines.append(
            (sku.pk, sku.product.name, sku.code, sku.variant_label, sku.price, quantity, ZERO)
        )
    # A threshold discount (满减, ORD-8: 20 off from 199) on some of the bigger orders.
    discount = THRESHOLD_DISCOUNT if goods >= DISCOUNT_FROM and rng.random() < 0.3 else ZERO
    discount, shipping, total = price_order(goods, discount=discount)

    steps = plan_timeline(
        rng,
        placed_at=placed_at,
        outcome=choose_outcome(rng, now - placed_at),
        payment_method=payment_method,
        has_customer=customer.id is not None,
        now=now,
    )
    stamps = timestamps_from_steps(steps)
    place = customer.place
    row = (
        number, customer.id, customer.email, channel, external_id, customer.name,
        customer.phone, place.province, place.city, place.district,
        random_address_line(rng, place), place.postcode,
        rng.choice(CUSTOMER_NOTES) if rng.random() < 0.05 else "",
        payment_method, goods, discount, shipping, total,
        total if stamps["paid_at"] else ZERO,
        steps[-1].to_state, stamps["created_at"], stamps["paid_at"], stamps["shipped_at"],
        stamps["completed_at"], stamps["cancelled_at"],
    )  # fmt: skip
    return _BulkOrder(row=row, customer_id=customer.id, total=total, lines=lines, steps=steps)
