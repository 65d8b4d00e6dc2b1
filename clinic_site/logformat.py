"""One log line per event, for the app (settings.LOGGING) and gunicorn (gunicorn.conf.py)."""

import logging
import time


class OneLineFormatter(logging.Formatter):
    """``time level logger message``: UTC time, line breaks escaped.

    A traceback stays in its event's line (as ``\\n``), and a line break smuggled into a
    logged value (a URL, a header) cannot forge a second log line. Times are UTC, because
    Django sets each worker's local zone to TIME_ZONE while gunicorn's master keeps the
    machine's.
    """

    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r", "\\r").replace("\n", "\\n")


# The pieces both logging configurations use (dictConfig form).
LINE_FORMATTER = {
    "()": "clinic_site.logformat.OneLineFormatter",
    "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
}
STDOUT_HANDLER = {
    "class": "logging.StreamHandler",
    "formatter": "line",
    "stream": "ext://sys.stdout",
}
