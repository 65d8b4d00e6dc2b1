"""Site-wide answers: robots.txt, /favicon.ico, the brand colour's theme.css and the 500 page."""

from django.conf import settings
from django.http import HttpResponse, HttpResponseServerError
from django.template import loader
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from django.views.generic import RedirectView

from .colours import stylesheet, theme_version
from .models import ClinicSettings
from .site_url import site_url


@require_safe
@cache_control(max_age=86400, public=True)
def robots_txt(request):
    """Everything may be crawled but admin; the sitemap is on ``SITE_URL``.

    A custom ``ADMIN_URL`` is kept secret: robots.txt is public, so it does not name it
    (admin pages tell crawlers themselves: ``<meta name="robots" content="NONE,NOARCHIVE">``).
    """
    lines = ["User-agent: *", "Allow: /"]
    if settings.ADMIN_URL == "admin/":
        lines.append(f"Disallow: {reverse('admin:index')}")
    lines += ["", f"Sitemap: {site_url()}{reverse('sitemap')}"]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@require_safe
def theme_css(request):
    """The brand colour's shades for site.css. Linked as ``?v=<version>`` (ClinicSettings.
    theme_css_url): that address never changes its answer, so browsers keep it a year."""
    clinic = getattr(request, "clinic", None)  # None when the database is down: the default
    colour = (
        clinic.brand_colour if clinic else ClinicSettings._meta.get_field("brand_colour").default
    )
    response = HttpResponse(stylesheet(colour), content_type="text/css; charset=utf-8")
    if request.GET.get("v") == theme_version(colour):
        patch_cache_control(response, public=True, max_age=365 * 86400, immutable=True)
    else:  # a link from before a colour change (or none): never kept as that version's
        patch_cache_control(response, public=True, no_cache=True)
    return response


class FaviconView(RedirectView):
    """Browsers that ignore ``<link rel="icon">`` ask for /favicon.ico: send the static one."""

    permanent = False  # the static URL may change (hashed file names)

    def get_redirect_url(self, *args, **kwargs):
        return static("img/favicon.ico")


def server_error(request):
    """The 500 page, with the clinic's phone when it can still be read."""
    try:
        clinic = ClinicSettings.load()
    except Exception:  # the database may be what failed
        clinic = None
    return HttpResponseServerError(loader.get_template("500.html").render({"clinic": clinic}))
