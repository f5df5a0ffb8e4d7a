"""`manage.py seed_demo`: demo accounts, catalogue and 90 days of orders (SPEC §10)."""

from django.core.management.base import BaseCommand, CommandError

from core import demo


class Command(BaseCommand):
    help = (
        "Create one demo account per role (password demo1234), a catalogue and about 90 days "
        "of orders in every state. Safe to run again: it only adds what is missing. Refused "
        "where DEMO_ACCOUNTS_ALLOWED is off (production)."
    )

    def handle(self, *args, **options) -> None:
        try:
            result = demo.seed_demo()
        except demo.DemoDataRefused as error:
            raise CommandError(str(error)) from error

        write = self.stdout.write
        write(self.style.SUCCESS(f"Demo data ready in {result.seconds:.1f} s."))
        for label, count in result.counts.items():
            write(f"  {label:<14} {count:>6,}")
        write(f"  orders created {result.orders_created:>6,} (this run)")
        states = ", ".join(f"{state} {n}" for state, n in result.orders_by_state.items())
        write(f"  by state: {states}")
        write(f"Log in as any of: {', '.join(spec.email for spec in demo.STAFF_ACCOUNTS)},")
        write(f"  {demo.CUSTOMER_ACCOUNTS[0].email} — password {demo.DEMO_PASSWORD}")
