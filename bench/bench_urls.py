"""The site's URLs plus /bench/bare/ (``DJANGO_ROOT_URLCONF=bench.bench_urls``): a page of a
real page's size, static markup, whole middleware stack, no query and no page cache."""

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
