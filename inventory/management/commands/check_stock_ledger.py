from django.core.management.base import BaseCommand, CommandError

from inventory.ledger import ledger_differences


class Command(BaseCommand):
    help = "Verify that every stock row equals the sum of its ledger movements (INV-4)."

    def handle(self, *args, **options) -> None:
        differences = ledger_differences()
        if not differences:
            self.stdout.write(self.style.SUCCESS("Stock ledger balances: no differences."))
            return
        self.stdout.write("sku_id\tbin_id\ton_hand\tledger\treserved\tledger")
        for d in differences:
            self.stdout.write(
                f"{d.sku_id}\t{d.bin_id}\t{d.on_hand}\t{d.ledger_on_hand}\t"
                f"{d.reserved}\t{d.ledger_reserved}"
            )
        raise CommandError(f"{len(differences)} stock row(s) differ from the ledger.")
