from django.conf import settings
from django.core.management.base import BaseCommand

from todos.sync import purge_tombstones


class Command(BaseCommand):
    help = "Delete the sync feed's tombstones older than SYNC_TOMBSTONE_DAYS (run it daily)."

    def handle(self, *args, **options):
        deleted = purge_tombstones()
        self.stdout.write(
            f"Deleted {deleted} sync tombstones older than {settings.SYNC_TOMBSTONE_DAYS} days."
        )
