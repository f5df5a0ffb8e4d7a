"""A real Celery worker, in its own process, imports an uploaded marketplace export (ORD-12):
the upload's hand-over and the import's progress go through the broker and the database, as in
`make run`. The broker and worker set-up is tests/core/test_worker.py's."""

import time

import pytest
from celery import Celery

from orders.models import Order, OrderState
from stores.models import ImportState, StoreImport
from tests.core.test_worker import broker, start_worker, stop_worker  # noqa: F401
from tests.factories import UserFactory, stock_sku

from .exports import export_bytes, marketplace_store, row

WAIT_SECONDS = 60


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_imports_an_export(broker, tmp_path):  # noqa: F811
    broker_url, transport_options, broker_env = broker
    sku = stock_sku(10)
    store = marketplace_store()
    content = export_bytes([row(sku, "W-1"), row(sku, "W-2", quantity=2, unit_price="50.00")])
    # Recorded as `request_import` records it; the hand-over is this test's, to the worker's
    # broker (the suite's own Celery app runs tasks in-process).
    store_import = StoreImport.objects.create(
        store=store,
        uploaded_by=UserFactory(role="service"),
        filename="export.csv",
        content=content,
        sha256="2" * 64,
    )
    log_path = tmp_path / "worker.log"
    worker = start_worker(broker_env, log_path)
    try:
        sender = Celery("test-sender", broker=broker_url, set_as_current=False)
        sender.conf.broker_transport_options = transport_options
        sender.conf.task_serializer = "json"
        sender.send_task("stores.tasks.run_store_import", args=[store_import.pk, "en"])
        sender.close()

        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline and worker.poll() is None:
            store_import.refresh_from_db()
            if store_import.is_finished:
                break
            time.sleep(0.3)

        output = log_path.read_text(errors="replace")
        assert store_import.state == ImportState.DONE, f"{store_import.errors}\n{output}"
        assert store_import.orders_created == 2
        assert set(Order.objects.values_list("external_id", "state")) == {
            ("W-1", OrderState.PAID),
            ("W-2", OrderState.PAID),
        }
    finally:
        stop_worker(worker)
