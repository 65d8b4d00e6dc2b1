"""The site's URLs plus a bare baseline page, for bench/page_speed.py only.

Selected with ``DJANGO_ROOT_URLCONF=bench.bench_urls``. ``/bench/bare/`` renders
bench/templates/bare.html (about the size of a real page, static markup only) through the
whole middleware stack, with no database query and no page cache: what serving a page of
that size costs before the site does any work of its own.
"""

from pathlib import Path

from django.http import HttpResponse
from django.template import Context, Engine
from django.urls import path

from clinic_site.urls import handler500
from clinic_site.urls import urlpatterns as site_urlpatterns

# A standalone engine (no settings change): the template is compiled once per process.
_ENGINE = Engine(dirs=[str(Path(__file__).resolve().parent / "templates")])
_BARE = _ENGINE.get_template("bare.html")


def bare(request):
    return HttpResponse(_BARE.render(Context()))


urlpatterns = [path("bench/bare/", bare, name="bench_bare"), *site_urlpatterns]

__all__ = ["handler500", "urlpatterns"]
