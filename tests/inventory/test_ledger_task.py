"""The nightly stock-ledger check run by beat (INV-4): it logs every stock row that differs
from its ledger, with the SKU and the bin, and returns how many differ."""

import logging

import pytest

from inventory import tasks
from inventory.models import Stock
from tests.factories import BinFactory, stock_sku

pytestmark = pytest.mark.django_db


def test_a_balanced_ledger_logs_no_error(caplog):
    stock_sku(10)

    with caplog.at_level(logging.INFO, logger="inventory.tasks"):
        assert tasks.check_stock_ledger.delay().get() == 0

    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert "every stock row equals its ledger" in caplog.text


def test_a_row_changed_behind_the_ledger_is_logged_with_its_sku_and_bin(caplog):
    bin_ = BinFactory(code="C-07-03")
    sku = stock_sku(10, bin=bin_)
    stock_sku(5)  # another row, still balanced
    Stock.objects.filter(sku=sku).update(on_hand=12)  # not through the services

    with caplog.at_level(logging.INFO, logger="inventory.tasks"):
        assert tasks.check_stock_ledger.delay().get() == 1

    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2
    assert sku.code in errors[0]
    assert f"{bin_.warehouse.code} C-07-03" in errors[0]
    assert "on hand 12, ledger 10" in errors[0]
    assert "1 stock row(s) differ" in errors[1]
