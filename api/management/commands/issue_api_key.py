"""Issue an API key from the command line (deployments, scripts), as the staff screen does:

    python manage.py issue_api_key --store erp --name "ERP production" \\
        --scopes orders:write,orders:read,tracking:write,stock:read

Prints the key once; only its hash is stored. With --create-store "<name>", a sales channel of
kind "api" with that code is created first if there is none.
"""

from django.core.management.base import BaseCommand, CommandError

from api import services
from api.models import ApiScope
from core.errors import DomainError
from stores.models import Store


class Command(BaseCommand):
    help = "Issue an API key for a sales channel and print it (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("--store", required=True, help="The sales channel's code.")
        parser.add_argument("--name", required=True, help="Who uses the key.")
        parser.add_argument(
            "--scopes",
            default=",".join(ApiScope.values),
            help=f"Comma-separated, among {', '.join(ApiScope.values)} (default: all).",
        )
        parser.add_argument(
            "--create-store",
            metavar="NAME",
            default="",
            help='Create the channel (kind "api") with this name if the code is unknown.',
        )

    def handle(self, *args, store: str, name: str, scopes: str, create_store: str, **options):
        channel = Store.objects.filter(code=store).first()
        try:
            if channel is None and create_store:
                channel = services.create_api_store(actor=None, code=store, name=create_store)
            if channel is None:
                raise CommandError(f"No sales channel with the code {store!r}.")
            issued = services.issue_api_key(
                actor=None,
                store_id=channel.pk,
                name=name,
                scopes=[scope.strip() for scope in scopes.split(",") if scope.strip()],
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(issued.token)
