"""Printable documents of the warehouse floor (FUL-4): pick lists, packing slips, labels."""

urlpatterns: list = []
