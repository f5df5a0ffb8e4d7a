"""Report snapshots and on-demand runs with their progress (RPT-6)."""

from decimal import Decimal

import pytest

from reports import services
from reports.models import ReportRun, ReportSnapshot, RunState
from reports.periods import parse_period
from reports.registry import ReportFilters
from tests.factories import UserFactory, WarehouseFactory
from tests.reports.test_exports import fake_tables, install_fake_report

pytestmark = pytest.mark.django_db


def test_a_rerun_replaces_the_snapshot(monkeypatch):
    figures = {"gmv": Decimal("10.00")}

    def build(*, period, filters):
        tables = fake_tables(period, filters)
        tables[0].rows[0]["gmv"] = figures["gmv"]
        return tables

    install_fake_report(monkeypatch, build=build)
    period = parse_period("day", "2026-11-24")
    first = services.make_snapshot("sales", period)
    figures["gmv"] = Decimal("12.34")
    second = services.make_snapshot("sales", period)
    assert first.pk == second.pk
    assert ReportSnapshot.objects.count() == 1
    second.refresh_from_db()
    assert second.tables[0]["rows"][0]["gmv"] == "12.34"
    assert second.made_by is None
    # Other filters or another period are other snapshots.
    services.make_snapshot("sales", period, ReportFilters(channel="storefront"))
    services.make_snapshot("sales", period.previous())
    assert ReportSnapshot.objects.count() == 3


def test_an_unknown_report_is_refused(monkeypatch):
    install_fake_report(monkeypatch)
    with pytest.raises(services.ReportError):
        services.make_snapshot("inventory", parse_period("day", "2026-11-24"))


def test_a_run_goes_to_done_with_its_progress(monkeypatch, django_capture_on_commit_callbacks):
    seen = []

    def build(*, period, filters):
        seen.append(ReportRun.objects.get().state)
        return fake_tables(period, filters)

    install_fake_report(monkeypatch, build=build)
    progress = []
    record = services._progress

    def watch(run_id, percent):
        record(run_id, percent)
        progress.append(ReportRun.objects.get(pk=run_id).progress)

    monkeypatch.setattr(services, "_progress", watch)
    manager = UserFactory(role="manager")
    warehouse = WarehouseFactory()
    with django_capture_on_commit_callbacks(execute=True):
        run = services.request_run(
            report_key="sales",
            period=parse_period("week", "2026-W47"),
            filters=ReportFilters(channel="marketplace", warehouse_id=warehouse.pk),
            actor=manager,
        )
    run.refresh_from_db()
    assert seen == [RunState.RUNNING]
    assert progress == [50, 72, 95]  # after the build, then table by table
    assert run.state == RunState.DONE and run.progress == 100 and run.finished_at
    snapshot = run.snapshot
    assert snapshot.made_by == manager
    assert snapshot.filters == {"channel": "marketplace", "warehouse": str(warehouse.pk)}
    assert snapshot.tables[0]["rows"][0]["name"] == "华东 marketplace"
    # Delivered again: nothing more happens.
    assert services.perform_run(run.pk) is False


def test_a_failing_run_says_so(monkeypatch, django_capture_on_commit_callbacks):
    def build(*, period, filters):
        raise RuntimeError("database went away")

    install_fake_report(monkeypatch, build=build)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.request_run(
            report_key="sales",
            period=parse_period("day", "2026-11-24"),
            filters=ReportFilters(),
            actor=UserFactory(role="manager"),
        )
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert "database went away" in run.error
    assert ReportSnapshot.objects.count() == 0


def test_run_page_polls_until_done(client, monkeypatch, django_capture_on_commit_callbacks):
    install_fake_report(monkeypatch)
    manager = UserFactory(role="manager")
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            "/staff/reports/runs/", {"report": "sales", "kind": "month", "period": "2026-10"}
        )
    run = ReportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/staff/reports/runs/{run.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 1s"' in page and "<progress" in page
    for callback in callbacks:
        callback()
    part = client.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in part and "hx-trigger" not in part
    run.refresh_from_db()
    assert f"/staff/reports/snapshots/{run.snapshot_id}.xlsx" in part
    download = client.get(f"/staff/reports/snapshots/{run.snapshot_id}.csv")
    assert download.status_code == 200 and download.content.startswith(b"\xef\xbb\xbf")
    # Another manager may not watch someone else's run.
    client.force_login(UserFactory(role="manager"))
    assert client.get(f"/staff/reports/runs/{run.pk}/").status_code == 403


def test_snapshot_list_is_paginated_with_download_links(
    client, monkeypatch, django_assert_max_num_queries
):
    install_fake_report(monkeypatch)
    period = parse_period("day", "2026-11-24")
    for _ in range(30):
        services.make_snapshot("sales", period)
        period = period.previous()
    client.force_login(UserFactory(role="admin"))
    with django_assert_max_num_queries(12):
        page = client.get("/staff/reports/snapshots/").content.decode()
    assert page.count('.xlsx"') == 25
    assert "2026-10-26" in page and "2026-11-24" not in page  # the newest first
    second = client.get("/staff/reports/snapshots/?page=2").content.decode()
    assert second.count('.xlsx"') == 5 and "2026-11-24" in second


@pytest.mark.parametrize("role", ["customer", "warehouse", "service"])
def test_others_than_managers_are_refused(client, monkeypatch, role):
    install_fake_report(monkeypatch)
    snapshot = services.make_snapshot("sales", parse_period("day", "2026-11-24"))
    client.force_login(UserFactory(role=role))
    for method, url in [
        ("get", "/staff/reports/export/?report=sales&kind=day&format=csv"),
        ("post", "/staff/reports/runs/"),
        ("get", "/staff/reports/subscriptions/"),
        ("post", "/staff/reports/subscriptions/"),
        ("get", "/staff/reports/snapshots/"),
        ("get", f"/staff/reports/snapshots/{snapshot.pk}.csv"),
    ]:
        assert getattr(client, method)(url).status_code == 403, url
    assert ReportRun.objects.count() == 0


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/staff/reports/snapshots/")
    assert response.status_code == 302 and "login" in response["Location"]
