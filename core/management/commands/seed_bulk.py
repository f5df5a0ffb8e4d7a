"""`manage.py seed_bulk --orders N`: many realistic orders, fast, for benchmarks."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import demo


class Command(BaseCommand):
    help = (
        "Insert N realistic orders (with lines and their timeline of events) spread over the "
        "last year, with bulk inserts, and print the rate achieved. Creates the demo accounts "
        "and catalogue first if they are missing. Refused where DEMO_ACCOUNTS_ALLOWED is off."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, required=True, help="How many orders.")
        parser.add_argument(
            "--batch-size", type=int, default=5000, help="Orders per transaction (5000)."
        )
        parser.add_argument(
            "--days", type=int, default=365, help="Spread over this many days back (365)."
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed: same seed, same orders (1)."
        )

    def handle(self, *args, orders: int, batch_size: int, days: int, seed: int, **options):
        if orders < 1 or batch_size < 1 or days < 1:
            raise CommandError("--orders, --batch-size and --days must be at least 1.")
        verbosity = options["verbosity"]

        def progress(done: int, total: int) -> None:
            if verbosity >= 2:
                self.stdout.write(f"  {done:,} / {total:,} orders")

        try:
            result = demo.insert_bulk_orders(
                count=orders, batch_size=batch_size, days=days, seed=seed, progress=progress
            )
        except demo.DemoDataRefused as error:
            raise CommandError(str(error)) from error

        rate = result.orders_per_second
        self.stdout.write(
            self.style.SUCCESS(
                f"Inserted {result.orders:,} orders ({result.lines:,} lines, "
                f"{result.events:,} events) in {result.insert_seconds:.2f} s: "
                f"{rate:,.0f} orders/s, {rate * 60:,.0f} orders/min."
            )
        )
        if verbosity >= 1:
            states = ", ".join(f"{s} {n:,}" for s, n in sorted(result.orders_by_state.items()))
            self.stdout.write(f"  by state: {states}")
            self.stdout.write(
                f"  setup (accounts, catalogue, customers): {result.setup_seconds:.2f} s"
            )
