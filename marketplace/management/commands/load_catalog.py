from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load the model catalog (the loader arrives with the catalog work)."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write("No catalog loader yet: nothing loaded.")
