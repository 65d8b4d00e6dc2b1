import signal

from django.core.management import BaseCommand

from contact.notifications import run_forever, send_pending


class Command(BaseCommand):
    help = (
        "Email staff about new consultation requests and confirm to patients. One pass by "
        "default; --loop keeps running as a worker (several may run at once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running as a worker.")
        parser.add_argument(
            "--interval", type=float, default=5.0, help="Seconds between passes with --loop."
        )

    def handle(self, *args, loop=False, interval=5.0, **options):
        if not loop:
            sent, failed = send_pending()
            self.stdout.write(f"Sent {sent}, failed {failed} (failed ones are retried later).")
            return
        stopping = []

        def stop(signum, frame):
            stopping.append(signum)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"Notification worker running (every {interval:g} s); Ctrl+C stops.")
        run_forever(interval, stop=lambda: bool(stopping))
