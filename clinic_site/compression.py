"""Django's GZipMiddleware (with its BREACH padding), for text only.

Pictures are compressed already, and the app serves /media/ itself under ``make serve``:
gzip would only cost CPU there, and turn a file response into one without a length.
"""

from django.middleware.gzip import GZipMiddleware

TEXT_TYPES = ("text/", "application/json", "application/ld+json", "application/xml")


class TextGZipMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        content_type = response.get("Content-Type", "")
        if not content_type.startswith(TEXT_TYPES) and "+xml" not in content_type:
            return response
        return super().process_response(request, response)
