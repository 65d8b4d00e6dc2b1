from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path

from clinic_site import accounts
from clinic_site.health import healthz
from clinic_site.media import serve_media
from clinic_site.sitemaps import site_sitemaps
from clinic_site.views import FaviconView, robots_txt, theme_css
from contact import insight

admin.site.site_header = "Clinic website"
admin.site.site_title = "Clinic website admin"
admin.site.index_title = "Manage the website"

urlpatterns = [
    # Forgotten passwords, under the admin as Django's docs wire them: its login page then
    # links to the first one (clinic_site/accounts.py).
    path(
        f"{settings.ADMIN_URL}password_reset/",
        accounts.PasswordResetView.as_view(),
        name="admin_password_reset",
    ),
    path(
        f"{settings.ADMIN_URL}password_reset/done/",
        accounts.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        f"{settings.ADMIN_URL}reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(f"{settings.ADMIN_URL}insight/", admin.site.admin_view(insight.dashboard), name="insight"),
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
