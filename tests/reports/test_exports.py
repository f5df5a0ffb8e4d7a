"""CSV and XLSX exports of report tables read back to the same figures (RPT-6, issue 9 §7).

`install_fake_report` registers a small report of known figures in the registry, so that these
tests (and test_runs / test_subscriptions) do not depend on the real reports' data."""

import csv
import io
import sys
import types
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from reports import registry
from reports.exports import tables_from_json, to_csv, to_xlsx
from reports.tables import COUNT, DATE, DURATION, MONEY, PERCENT, TEXT, Column, Table
from tests.factories import UserFactory

FAKE_MODULE = "tests.reports.fake_sales_report"


def fake_tables(period=None, filters=None) -> list[Table]:
    channel = filters.channel if filters else ""
    return [
        Table(
            key="summary",
            title="销售概况",
            columns=[
                Column("name", "指标", TEXT),
                Column("orders", "订单数", COUNT),
                Column("gmv", "成交额", MONEY),
                Column("share", "占比", PERCENT),
                Column("wait", "等待", DURATION),
                Column("day", "日期", DATE),
            ],
            rows=[
                {
                    "name": f"华东 {channel}".strip(),
                    "orders": 3,
                    "gmv": Decimal("1234.5"),
                    "share": Decimal("12.5"),
                    "wait": 5400.0,
                    "day": date(2026, 11, 1),
                },
                {
                    "name": "华北",
                    "orders": 1,
                    "gmv": Decimal("0.1"),
                    "share": None,
                    "wait": None,
                    "day": date(2026, 11, 2),
                    "_drill": {"province": "北京"},
                },
            ],
        ),
        Table(
            key="by_sku",
            title="按 SKU",
            columns=[Column("sku", "SKU", TEXT), Column("net", "净额", MONEY)],
            rows=[{"sku": "A-1", "net": Decimal("99999.99")}],
            note="退款已扣除",
        ),
    ]


def install_fake_report(monkeypatch, build=None):
    """Make "sales" the only report, built by `build` (default: `fake_tables`)."""
    module = types.ModuleType(FAKE_MODULE)
    module.KEY = "sales"
    module.TITLE = "Sales"
    module.calls = []

    def default_build(*, period, filters):
        module.calls.append((period, filters))
        return fake_tables(period, filters)

    module.build = build or default_build
    monkeypatch.setitem(sys.modules, FAKE_MODULE, module)
    monkeypatch.setattr(registry, "MODULES", {"sales": FAKE_MODULE})
    return module


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_csv_reads_back_to_the_same_figures():
    rows = read_csv(to_csv(fake_tables()))
    assert rows[0] == ["销售概况"]
    assert rows[1] == ["指标", "订单数", "成交额", "占比 (%)", "等待 (hours)", "日期"]
    assert rows[2] == ["华东", "3", "1234.50", "12.5", "1.50", "2026-11-01"]
    assert rows[3] == ["华北", "1", "0.10", "", "", "2026-11-02"]
    assert rows[4] == []
    assert rows[5] == ["按 SKU"]
    assert rows[7] == ["A-1", "99999.99"]
    assert rows[8] == ["退款已扣除"]
    assert Decimal(rows[2][2]) + Decimal(rows[3][2]) == Decimal("1234.60")


def test_xlsx_reads_back_to_the_same_figures():
    book = load_workbook(io.BytesIO(to_xlsx(fake_tables())))
    assert book.sheetnames == ["销售概况", "按 SKU"]
    sheet = book["销售概况"]
    header = [cell.value for cell in sheet[1]]
    assert header == ["指标", "订单数", "成交额", "占比 (%)", "等待 (hours)", "日期"]
    assert all(cell.font.bold for cell in sheet[1])
    first = [cell.value for cell in sheet[2]]
    assert first[:5] == ["华东", 3, 1234.5, 12.5, 1.5]
    assert first[5].date() == date(2026, 11, 1)
    assert Decimal(str(sheet["C2"].value)).quantize(Decimal("0.01")) == Decimal("1234.50")
    assert sheet["C2"].number_format == "#,##0.00"
    assert sheet["D2"].number_format == '0.0"%"'
    assert sheet["C3"].value == 0.1
    assert sheet["D3"].value is None
    assert sheet.column_dimensions["C"].width >= 8
    other = book["按 SKU"]
    assert Decimal(str(other["B2"].value)) == Decimal("99999.99")
    assert other["A4"].value == "退款已扣除"


def test_snapshot_json_round_trip_exports_the_same_files():
    tables = fake_tables()
    again = tables_from_json([table.to_json() for table in tables])
    assert again[0].rows[0]["gmv"] == Decimal("1234.5")
    assert to_csv(again) == to_csv(tables)
    first = load_workbook(io.BytesIO(to_xlsx(tables)))
    second = load_workbook(io.BytesIO(to_xlsx(again)))
    for name in first.sheetnames:
        assert [[c.value for c in r] for r in first[name].iter_rows()] == [
            [c.value for c in r] for r in second[name].iter_rows()
        ]


def test_sheet_names_are_valid_and_unique():
    tables = [
        Table(key="a", title="A/B: [x]" + "长" * 40, columns=[]),
        Table(key="b", title="A/B: [x]" + "长" * 40, columns=[]),
    ]
    names = load_workbook(io.BytesIO(to_xlsx(tables))).sheetnames
    assert len(names) == 2 and len(set(names)) == 2
    assert all(len(name) <= 31 and "/" not in name and "[" not in name for name in names)
    assert load_workbook(io.BytesIO(to_xlsx([]))).sheetnames


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_endpoint_downloads_the_report(client, monkeypatch, file_format):
    module = install_fake_report(monkeypatch)
    client.force_login(UserFactory(role="manager"))
    response = client.get(
        "/staff/reports/export/",
        {"report": "sales", "kind": "month", "period": "2026-10", "format": file_format},
    )
    assert response.status_code == 200
    assert 'filename="sales-2026-10.' in response["Content-Disposition"]
    period, _filters = module.calls[0]
    assert period.key == "2026-10"
    if file_format == "csv":
        assert read_csv(response.content)[2][2] == "1234.50"
    else:
        book = load_workbook(io.BytesIO(response.content))
        assert book["销售概况"]["C2"].value == 1234.5


@pytest.mark.django_db
def test_export_of_a_past_period_uses_its_snapshot(client, monkeypatch):
    from reports.periods import parse_period
    from reports.registry import ReportFilters
    from reports.services import store_snapshot

    module = install_fake_report(monkeypatch)
    stored = fake_tables()
    stored[0].rows[0]["gmv"] = Decimal("777.00")
    store_snapshot("sales", parse_period("month", "2026-10"), ReportFilters(), stored)
    client.force_login(UserFactory(role="manager"))
    response = client.get(
        "/staff/reports/export/",
        {"report": "sales", "kind": "month", "period": "2026-10", "format": "csv"},
    )
    assert read_csv(response.content)[2][2] == "777.00"
    assert module.calls == []


@pytest.mark.django_db
def test_export_refuses_bad_input(client, monkeypatch):
    install_fake_report(monkeypatch)
    client.force_login(UserFactory(role="manager"))
    response = client.get(
        "/staff/reports/export/",
        {"report": "sales", "kind": "month", "period": "2026-W48", "format": "csv"},
    )
    assert response.status_code == 400
    response = client.get(
        "/staff/reports/export/", {"report": "nope", "kind": "month", "format": "csv"}
    )
    assert response.status_code == 400
    assert client.get("/staff/reports/export/").status_code == 200


def test_a_summary_row_of_counts_in_a_money_column_is_written_as_a_count():
    from reports.tables import COUNT, MONEY, Column, Table

    table = Table(
        key="summary",
        title="Summary",
        columns=[Column("figure", "Figure"), Column("current", "Current", MONEY)],
        rows=[
            {"figure": "Orders", "type": COUNT, "current": Decimal("2")},
            {"figure": "GMV", "current": Decimal("12.5")},
        ],
    )

    sheet = load_workbook(io.BytesIO(to_xlsx([table])), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows == [("Orders", 2), ("GMV", 12.5)]
    assert "Orders,2\r\n" in to_csv([table]).decode("utf-8-sig")
