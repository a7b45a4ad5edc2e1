from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from marketplace.loader import DEFAULT_CATALOG, CatalogError, load_catalog_file
from marketplace.publish import ensure_published


class Command(BaseCommand):
    help = (
        "Upsert the model catalog from a JSON file (default: the shipped catalog). "
        "Idempotent; --prune disables entries missing from the file. Admin edits survive: "
        "a row is only updated where its file entry changed since the last load (the summary "
        "counts the rows skipped because their entry did not change); --force re-applies the "
        "whole file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", default=str(DEFAULT_CATALOG))
        parser.add_argument(
            "--prune",
            action="store_true",
            help="disable (never delete) providers, models and endpoints absent from the file",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="apply every file entry to its row, even unchanged ones: undoes admin edits",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = load_catalog_file(
                options["file"], prune=options["prune"], force=options["force"]
            )
        except CatalogError as exc:
            raise CommandError(str(exc)) from exc
        # A change publishes after commit; an unchanged catalog still needs a snapshot in a
        # freshly wiped Redis for the gateway.
        ensure_published()
        self.stdout.write(f"{options['file']}: {result.summary()}")
