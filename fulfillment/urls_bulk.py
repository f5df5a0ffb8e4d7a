"""Promotion-day work (FUL-7): bulk release, bulk pick lists, bulk labels, the stock check."""

urlpatterns: list = []
