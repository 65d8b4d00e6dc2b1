from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path

from clinic_site.health import healthz
from clinic_site.media import serve_media
from clinic_site.sitemaps import site_sitemaps
from clinic_site.views import FaviconView, robots_txt, theme_css

admin.site.site_header = "Clinic website"
admin.site.site_title = "Clinic website admin"
admin.site.index_title = "Manage the website"

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("sitemap.xml", sitemap, {"sitemaps": site_sitemaps()}, name="sitemap"),
    path("robots.txt", robots_txt, name="robots_txt"),
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    path("healthz", healthz, name="healthz"),
    path("theme.css", theme_css, name="theme_css"),
    re_path(rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.+)$", serve_media, name="media"),
    path("", include("contact.urls")),
    path("", include("pages.urls")),
]

handler500 = "clinic_site.views.server_error"
