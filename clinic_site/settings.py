"""Settings for the clinic site: one file, driven by the environment.

Every variable has a safe local default so ``make run`` needs no set-up; production sets
the variables listed in ../shared/DESIGN.md (and the README).
"""

import contextlib
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from clinic_site.client_address import parse_trusted_proxies
from clinic_site.logformat import LINE_FORMATTER, STDOUT_HANDLER

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", False)


def _local_secret_key() -> str:
    """A key generated once per checkout and kept out of git; never the production one."""
    path = BASE_DIR / ".local_secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        with contextlib.suppress(OSError):
            path.write_text(key)
        return key


_SECRET_KEY_FROM_ENV = env("DJANGO_SECRET_KEY", default="")
SECRET_KEY = _SECRET_KEY_FROM_ENV or _local_secret_key()
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
SITE_URL = env("SITE_URL", default=f"http://127.0.0.1:{env('PORT', default='8000')}").rstrip("/")

# HTTPS settings follow SITE_URL's scheme (docs/deploy.md, "Production settings").
_SITE = urlsplit(SITE_URL)
SITE_IS_HTTPS = _SITE.scheme == "https"
if SITE_IS_HTTPS and not DEBUG and not _SECRET_KEY_FROM_ENV:
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY is not set, but SITE_URL is {SITE_URL} and DJANGO_DEBUG is off: "
        "this looks like production, and the generated local key (.local_secret_key) must "
        "never sign production sessions. Set DJANGO_SECRET_KEY to 50 or more random "
        "characters (docs/deploy.md, 'Production settings')."
    )
# Proxies whose X-Forwarded-* headers are believed (docs/deploy.md, "The client's address").
if "DJANGO_TRUST_PROXY_HEADERS" in env.ENVIRON:  # ignored, it would merge every visitor
    raise ImproperlyConfigured(
        "DJANGO_TRUST_PROXY_HEADERS is gone: remove it, and behind nginx set "
        "TRUSTED_PROXIES=127.0.0.1,::1 (the addresses nginx connects from) instead "
        "(docs/deploy.md, 'Upgrading from DJANGO_TRUST_PROXY_HEADERS')."
    )
TRUSTED_PROXIES = parse_trusted_proxies(env.list("TRUSTED_PROXIES", default=[]))
if TRUSTED_PROXIES:  # TLS ends at the proxy, which says so in this header
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=SITE_IS_HTTPS)
# Load balancers and monitors may probe the app directly over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 31536000 if SITE_IS_HTTPS else 0  # a year
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = SITE_IS_HTTPS
CSRF_COOKIE_SECURE = SITE_IS_HTTPS
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # no script of ours (or the admin's) reads the CSRF cookie
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = [f"{_SITE.scheme}://{_SITE.netloc}"] + env.list(
    "DJANGO_CSRF_TRUSTED_ORIGINS", default=[]
)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No inline script or style; data: images for CSS icons (docs/architecture.md, "Security headers").
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Browser features no page uses, switched off (sent by clinic_site/security.py).
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
}
CROSS_ORIGIN_RESOURCE_POLICY = "same-origin"
# A deliberate opt-out (docs/deploy.md) is not reported by `check --deploy`.
SILENCED_SYSTEM_CHECKS = [
    check
    for check, chosen_off in [
        ("security.W005", not SECURE_HSTS_INCLUDE_SUBDOMAINS),
        ("security.W021", not SECURE_HSTS_PRELOAD),
        ("security.W008", SITE_IS_HTTPS and not SECURE_SSL_REDIRECT),
    ]
    if chosen_off
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "django_prose_editor",
    "reversion",  # content history: who changed what, and restore (clinic_site/history.py)
    "reversion_compare",  # the history page's "compare two versions"
    "clinic_site",  # site-wide: clinic settings, staff groups, sitemap and breadcrumbs
    "pages",
    "contact",
    "guide",  # the staff guide in admin
    "axes",
    "csp",
    # Not "imagekit": pages/picture_files.py imports it only to write files (pages' own
    # generateimages command), so a worker serving pages never loads it or Pillow.
    # Last, as django-cleanup asks: deletes replaced or deleted files after commit.
    "django_cleanup.apps.CleanupConfig",
]
# The history's comparison tells a changed link (an article's author) by the row it points
# to; the library's default compares whole versions and lists unchanged links as changed.
REVERSION_COMPARE_FOREIGN_OBJECTS_AS_ID = True

MIDDLEWARE = [
    # First: drops X-Forwarded-Proto from untrusted peers before the HTTPS redirect.
    "clinic_site.client_address.ForwardedProtoMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside the page cache, so a cached page gets the same headers as a fresh one.
    "csp.middleware.CSPMiddleware",
    "clinic_site.security.SecurityHeadersMiddleware",
    # Outside ConditionalGet and the page cache (docs/architecture.md, "The one page cache").
    "clinic_site.compression.TextGZipMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Inside sessions and auth: a logged-in person's request restarts their idle time.
    "clinic_site.accounts.StaffSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "clinic_site.middleware.ClinicTimezoneMiddleware",
    # In the clinic's zone (its dates), outside the page cache (its hits count too).
    "clinic_site.visits.ViewCountMiddleware",
    "pages.cache.AnonymousPageCacheMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Longest life of a cached anonymous page; any committed edit ends it (pages/cache.py).
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", 600)
# Behind nginx with proxy caching: how long nginx may keep an anonymous page (0: never).
PROXY_CACHE_SECONDS = env.int("PROXY_CACHE_SECONDS", 0)
# X-Page-Cache: hit|miss on public pages, for benchmarks (always with DEBUG; off in production).
PAGE_CACHE_HEADER = env.bool("DJANGO_PAGE_CACHE_HEADER", False)

ROOT_URLCONF = env("DJANGO_ROOT_URLCONF", default="clinic_site.urls")

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic_site.context_processors.clinic",
                "pages.context_processors.site_content",
            ],
        },
    },
]

WSGI_APPLICATION = "clinic_site.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker processes share the file: take the write lock at BEGIN and wait for it.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", 60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # A Redis that is full or down is a miss, not an error (clinic_site/cache.py).
            "BACKEND": "clinic_site.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="clinic"),
            # A Redis that hangs must fail fast, not hold a worker.
            "OPTIONS": {
                "socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT", 2.0),
                "socket_timeout": env.float("REDIS_TIMEOUT", 2.0),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Where the admin lives (e.g. "staff-7f3k/" keeps bots off the login form).
ADMIN_URL = env("ADMIN_URL", default="admin/").strip().strip("/") + "/"
if ADMIN_URL == "/":
    raise ImproperlyConfigured("ADMIN_URL must not be empty (the default is admin/).")

# django-axes: 5 failed logins lock that username from that address (docs/deploy.md).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", 60))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # the pair, not either one alone
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "axes/lockout.html"
AXES_CLIENT_IP_CALLABLE = "clinic_site.client_address.client_ip_address"
# Its log lines mask these (the user agent too: nothing in a log identifies a person).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "user_agent"]
# Its lockout records are registered by clinic_site/admin.py, for superusers only.
AXES_ENABLE_ADMIN = False

# Staff sessions end when the browser closes, and after this long without a request.
STAFF_IDLE_TIMEOUT_MINUTES = env.int("STAFF_IDLE_TIMEOUT_MINUTES", 8 * 60)
if STAFF_IDLE_TIMEOUT_MINUTES < 1:
    raise ImproperlyConfigured("STAFF_IDLE_TIMEOUT_MINUTES must be 1 or more (default 480).")
SESSION_COOKIE_AGE = STAFF_IDLE_TIMEOUT_MINUTES * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Not SESSION_SAVE_EVERY_REQUEST: it saves a new session for any request with a session
# cookie, a stale or made-up one too; clinic_site.accounts.StaffSessionMiddleware restarts
# the idle time of logged-in people only.


LANGUAGE_CODE = "en-us"
# The server's zone; pages use the clinic's own (ClinicSettings).
TIME_ZONE = env("DJANGO_TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Where `collectstatic` writes (nginx serves it in production).
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media")))
# The app answers /media/ itself unless nginx does (docs/media-storage.md).
SERVE_MEDIA = env.bool("DJANGO_SERVE_MEDIA", True)
# Hashed, compressed static files once `collectstatic` has run; the apps' folders otherwise.
STATIC_MANIFEST = env.bool(
    "DJANGO_STATIC_MANIFEST", default=not DEBUG and (STATIC_ROOT / "staticfiles.json").exists()
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
WHITENOISE_MAX_AGE = 3600

# Uploads: a picture larger than this is refused with a clear message in admin.
MAX_UPLOAD_IMAGE_BYTES = env.int("MAX_UPLOAD_IMAGE_BYTES", 10 * 1024 * 1024)
MAX_UPLOAD_IMAGE_PIXELS = env.int("MAX_UPLOAD_IMAGE_PIXELS", 40_000_000)
FILE_UPLOAD_PERMISSIONS = 0o644

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Mail: printed to the console unless an SMTP host is configured.
EMAIL_HOST = env("EMAIL_HOST", default="")
if EMAIL_HOST:
    EMAIL_BACKEND = "contact.mail.SMTPBackend"
    EMAIL_PORT = env.int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="clinic-site@localhost")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# One line per event on stdout; nothing a patient typed (docs/deploy.md, "Logs").
LOG_LEVEL = env("DJANGO_LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": LINE_FORMATTER},
    "handlers": {"console": STDOUT_HANDLER},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's events go to the root's one-line handler, not its defaults.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        # Quiet axes' banner at every start; its lockouts still log.
        "axes.apps": {"level": "WARNING"},
    },
}

# Days before `purge_consultation_requests` deletes a request (spam sooner).
CONSULTATION_RETENTION_DAYS = env.int("CONSULTATION_RETENTION_DAYS", 365)
CONSULTATION_SPAM_RETENTION_DAYS = env.int("CONSULTATION_SPAM_RETENTION_DAYS", 30)
# Daily page-view counts (clinic_site/visits.py) are kept this many months.
VIEW_RETENTION_MONTHS = env.int("VIEW_RETENTION_MONTHS", 25)
# Where nginx writes the views it answers from its own cache (deploy/nginx/clinic.conf);
# empty when no nginx caches pages in front of the app.
NGINX_VIEW_LOG_DIR = env("NGINX_VIEW_LOG_DIR", default="")
# The worker imports such a file once untouched this long (its minute over, nginx done).
NGINX_VIEW_LOG_SETTLE_SECONDS = env.float("NGINX_VIEW_LOG_SETTLE_SECONDS", 65)

# How long a worker holds a claimed row before another may take it (contact/notifications.py).
NOTIFICATION_LEASE_SECONDS = env.int("NOTIFICATION_LEASE_SECONDS", 300)
