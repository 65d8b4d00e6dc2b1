"""Uploaded pictures, answered by the app when nothing in front of it serves ``/media/``.

``make run`` and ``make serve`` need it; behind nginx, which reads MEDIA_ROOT itself, set
DJANGO_SERVE_MEDIA=0 (docs/deploy.md). Django's ``serve`` refuses paths outside
MEDIA_ROOT (400) and directory listings (404), and answers If-Modified-Since with 304.
"""

from django.conf import settings
from django.http import Http404
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe
from django.views.static import serve

# As nginx's `expires 7d` for /media/ (deploy/nginx/clinic.conf): both ways, one lifetime.
MAX_AGE = 7 * 24 * 3600


@require_safe
def serve_media(request, path):
    if not settings.SERVE_MEDIA:
        raise Http404("Media are served by the web server in front of the app.")
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    # SecurityMiddleware sends it too; a picture must never be sniffed into HTML.
    response["X-Content-Type-Options"] = "nosniff"
    return response
