"""``python manage.py rebuild_matches``: the full rebuild of the matches, returning when it is complete (SPEC §6).

The chunks go to the Celery workers (all of them share the work); with the embedded setup (eager Celery) they
run in this process. An unfinished run — a worker died during it — is resumed rather than started again.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from brokers.rebuild import DEFAULT_CHUNK_SIZE, rebuild_start_or_resume


class Command(BaseCommand):
    help = "Rebuild every match (listings, suppliers and experts for demands; demands for listings)."

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, help="records per chunk")
        parser.add_argument("--new", action="store_true", help="start a new run even if one is unfinished")
        parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the workers")

    def handle(self, *args, chunk_size, new, timeout, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")
        started = time.monotonic()
        run, resumed = rebuild_start_or_resume(chunk_size=chunk_size, new=new)
        self.stdout.write(
            f"resuming rebuild {run.pk} (phase {run.phase})" if resumed else f"rebuild {run.pk} started"
        )
        last = None
        while run.finished_at is None:
            if time.monotonic() - started > timeout:
                raise CommandError(
                    f"rebuild {run.pk} not finished after {timeout:.0f} s (phase {run.phase}); "
                    "run the command again to resume it"
                )
            done = run.chunks.filter(phase=run.phase, done_at__isnull=False).count()
            total = run.chunks.filter(phase=run.phase).count()
            if (run.phase, done) != last:
                self.stdout.write(f"  {run.phase}: {done}/{total} chunks")
                last = (run.phase, done)
            time.sleep(0.5)
            run.refresh_from_db()
        self.stdout.write(
            self.style.SUCCESS(
                f"rebuild {run.pk} complete in {time.monotonic() - started:.1f} s ({run.chunks.count()} chunks)"
            )
        )
