"""Picture uploads through the real admin forms, and media through Django's storage API.

Every upload here is a logged-in staff POST (multipart) to the Article or Office admin add
or change view. A refused file must come back as a form error on the picture field that
says why, and leave the database row and the media storage exactly as they were. An
accepted JPEG, PNG or WebP is stored re-encoded, with its resized copies beside it.

Media is listed through ``default_storage`` (never the disk): with Django's
``InMemoryStorage`` swapped in, originals, renditions and ``<picture>`` URLs all come from
it and nothing touches ``MEDIA_ROOT``, as with S3 (docs/media-storage.md).
"""

import functools
import html
import io
import posixpath
import re
import struct
import zlib
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.files.storage import InMemoryStorage, default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from pages.images import linked_widths
from pages.models import Article, Office
from pages.picture_files import SPECS, rendition_file

from .test_admin import admin_url, article_form_data, office_form_data, text_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

# The messages staff read (pages/picture_files.py), asserted word for word.
MSG_NOT_A_PICTURE = (
    "This file is not a picture we can use, or it is damaged. "
    "Please upload a JPEG, PNG or WebP picture."
)
MSG_WRONG_FORMAT = "Please upload a JPEG, PNG or WebP picture."
MSG_BOMB = "This picture is too large to use. Please resize it and upload it again."

MIB = 1024 * 1024


# --------------------------------------------------------------------------- files


def picture(fmt="JPEG", size=(600, 400), mode="RGB", **options) -> bytes:
    """A real picture made by Pillow, with a gradient so it is not trivially compressible."""
    img = Image.linear_gradient("L").resize(size).convert(mode)
    buffer = io.BytesIO()
    img.save(buffer, fmt, **options)
    return buffer.getvalue()


def multi_picture_jpeg() -> bytes:
    """A JPEG carrying a second picture (MPF), as phones write HDR gain maps and depth maps.

    Pillow reports its format as "MPO", not "JPEG".
    """
    main, extra = Image.new("RGB", (600, 400), "teal"), Image.new("RGB", (300, 200), "gray")
    buffer = io.BytesIO()
    main.save(buffer, "MPO", save_all=True, append_images=[extra])
    return buffer.getvalue()


@functools.cache
def png_bomb(width: int, height: int) -> bytes:
    """A real one-colour, one-bit PNG: huge in pixels, a few KB on disk (built once)."""
    buffer = io.BytesIO()
    Image.new("1", (width, height), 0).save(buffer, "PNG")
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width``×``height``: a decompression bomb's shape."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    idat = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def padded_jpeg(total_bytes: int) -> bytes:
    """A valid JPEG of exactly ``total_bytes`` (zeros after its end marker, as some cameras)."""
    data = picture("JPEG")
    assert len(data) < total_bytes
    return data + b"\0" * (total_bytes - len(data))


SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="600" height="400">'
    b'<rect width="600" height="400" fill="teal"/><script>alert(1)</script></svg>\n'
)


def upload(name: str, content: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


# --------------------------------------------------------------------------- storage


def stored_files(storage=None, path="") -> dict[str, bytes]:
    """Every file in media storage with its bytes, found through the storage API only."""
    storage = storage or default_storage
    try:
        dirs, files = storage.listdir(path)
    except FileNotFoundError:
        return {}
    found = {}
    for name in files:
        full = posixpath.join(path, name)
        with storage.open(full, "rb") as fh:
            found[full] = fh.read()
    for directory in dirs:
        found.update(stored_files(storage, posixpath.join(path, directory)))
    return found


def expected_renditions(picture) -> set[str]:
    """Every copy written of ``picture``: one per spec, linked by pages or not."""
    return {rendition_file(picture, width, ext).name for width, ext in SPECS}


# --------------------------------------------------------------------------- admin targets


@dataclass(frozen=True)
class Target:
    """One admin form with a picture field: the model, its form data and the alt text."""

    model: type
    form_data: object  # callable(**overrides) -> dict
    alt: str

    def post(self, client, image, obj=None, **overrides):
        data = self.form_data(image=image, image_alt=self.alt, **overrides)
        url = admin_url(self.model, "change", obj.pk) if obj else admin_url(self.model, "add")
        return client.post(url, data)


ARTICLE = Target(Article, article_form_data, "Knee brace on a table")
OFFICE = Target(Office, office_form_data, "Front desk of the Bloomfield office")


@pytest.fixture(
    params=[
        (ARTICLE, "add"),
        (ARTICLE, "change"),
        (OFFICE, "add"),
        (OFFICE, "change"),
    ],
    ids=["article-add", "article-change", "office-add", "office-change"],
)
def form(request, admin_client):
    """An admin form to upload into; for "change", a row saved through admin with a picture."""
    target, view = request.param
    existing = None
    if view == "change":
        response = target.post(admin_client, upload("before.png", picture("PNG"), "image/png"))
        assert response.status_code == HTTPStatus.FOUND, text_of(response)[:2000]
        existing = target.model.objects.get()
    return target, existing


def assert_refused(response, message: str):
    """The form came back with exactly ``message`` on the picture field (and no other)."""
    assert response.status_code == HTTPStatus.OK
    page = text_of(response)
    assert "Please correct the error" in page
    errors = re.search(r'<ul class="errorlist" id="id_image_error">(.*?)</ul>', page, re.S)
    assert errors, "no error on the picture field"
    shown = [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", errors.group(1))]
    assert shown == [message]


def assert_refused_and_nothing_kept(admin_client, form, image, message):
    target, existing = form
    rows_before = list(target.model.objects.values())
    files_before = stored_files()
    response = target.post(admin_client, image, obj=existing)
    assert_refused(response, message)
    assert list(target.model.objects.values()) == rows_before
    assert stored_files() == files_before
    if existing is None:
        assert rows_before == [] and files_before == {}
    return response


# --------------------------------------------------------------------------- refused files

REFUSED = {  # name, content, content type, the message staff read
    "gif": ("photo.gif", lambda: picture("GIF"), "image/gif", MSG_WRONG_FORMAT),
    "bmp": ("photo.bmp", lambda: picture("BMP"), "image/bmp", MSG_WRONG_FORMAT),
    "tiff": ("photo.tiff", lambda: picture("TIFF"), "image/tiff", MSG_WRONG_FORMAT),
    "svg": ("photo.svg", lambda: SVG, "image/svg+xml", MSG_NOT_A_PICTURE),
    "text-named-jpg": ("photo.jpg", lambda: b"just text\n" * 40, "image/jpeg", MSG_NOT_A_PICTURE),
    "truncated-jpeg": (
        "photo.jpg",
        lambda: picture("JPEG")[:-600],
        "image/jpeg",
        MSG_NOT_A_PICTURE,
    ),
    "truncated-webp": (
        "photo.webp",
        lambda: picture("WEBP")[:-300],
        "image/webp",
        MSG_NOT_A_PICTURE,
    ),
    # 10000×10000 (12 KB): over Pillow's bomb warning threshold (~89 Mpx). 100000×100000:
    # over its hard limit, too big to build, so only the header claims it (about 100 bytes).
    "bomb-warning": ("photo.png", lambda: png_bomb(10_000, 10_000), "image/png", MSG_BOMB),
    "bomb-error": ("photo.png", lambda: png_header_only(100_000, 100_000), "image/png", MSG_BOMB),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_file_is_a_form_error_and_nothing_is_kept(admin_client, form, case):
    name, make, content_type, message = REFUSED[case]
    image = upload(name, make(), content_type)
    assert_refused_and_nothing_kept(admin_client, form, image, message)


def test_file_over_the_byte_limit_is_refused(admin_client, form, settings):
    settings.MAX_UPLOAD_IMAGE_BYTES = 50_000
    image = upload("photo.jpg", padded_jpeg(50_001), "image/jpeg")
    assert_refused_and_nothing_kept(
        admin_client,
        form,
        image,
        "This file is too large (48.9 KB). Please upload a picture of at most 48.8 KB.",
    )


def test_picture_over_the_pixel_limit_is_refused(admin_client, form, settings):
    settings.MAX_UPLOAD_IMAGE_PIXELS = 200_000  # the picture has 600×400 = 240,000
    image = upload("photo.png", picture("PNG"), "image/png")
    assert_refused_and_nothing_kept(
        admin_client,
        form,
        image,
        "This picture is 600×400 pixels, which is too large to use. "
        "Please resize it to at most 547×365 pixels and upload it again.",
    )


# The real limits (10 MB, 40 megapixels), on one form: the checks do not depend on it.


def test_real_byte_limit_boundary(admin_client, settings):
    assert settings.MAX_UPLOAD_IMAGE_BYTES == 10 * MIB
    over = upload("big.jpg", padded_jpeg(10 * MIB + 1), "image/jpeg")
    assert_refused_and_nothing_kept(
        admin_client,
        (ARTICLE, None),
        over,
        "This file is too large (10.1 MB). Please upload a picture of at most 10 MB.",
    )
    at_limit = upload("big.jpg", padded_jpeg(10 * MIB), "image/jpeg")
    assert ARTICLE.post(admin_client, at_limit).status_code == HTTPStatus.FOUND
    stored = stored_files()[Article.objects.get().image.name]
    assert len(stored) < 100_000  # re-encoded: the padding is not kept


def test_real_pixel_limit(admin_client, settings):
    assert settings.MAX_UPLOAD_IMAGE_PIXELS == 40_000_000
    # 49 megapixels in 6 KB: under Pillow's own bomb threshold, over the site's 40.
    image = upload("huge.png", png_bomb(7000, 7000), "image/png")
    assert_refused_and_nothing_kept(
        admin_client,
        (OFFICE, None),
        image,
        "This picture is 7000×7000 pixels, which is too large to use. "
        "Please resize it to at most 6324×6324 pixels and upload it again.",
    )


def test_limits_are_inclusive(admin_client, settings):
    """A file of exactly the byte limit and a picture of exactly the pixel limit are fine."""
    content = padded_jpeg(50_000)
    settings.MAX_UPLOAD_IMAGE_BYTES = 50_000
    settings.MAX_UPLOAD_IMAGE_PIXELS = 600 * 400
    response = ARTICLE.post(admin_client, upload("photo.jpg", content, "image/jpeg"))
    assert response.status_code == HTTPStatus.FOUND
    assert (Article.objects.get().image_width, Article.objects.get().image_height) == (600, 400)


# --------------------------------------------------------------------------- accepted files

ACCEPTED = {
    "jpeg": ("photo.jpg", lambda: picture("JPEG", quality=90), "JPEG"),
    "png": ("photo.png", lambda: picture("PNG"), "PNG"),
    "png-with-alpha": ("logo.png", lambda: picture("PNG", mode="RGBA"), "PNG"),
    "webp": ("photo.webp", lambda: picture("WEBP"), "WEBP"),
    # A phone's JPEG with a gain map or depth map: a JPEG, though Pillow says "MPO".
    "jpeg-with-second-picture": ("phone.jpg", multi_picture_jpeg, "JPEG"),
}


@pytest.mark.parametrize("target", [ARTICLE, OFFICE], ids=["article", "office"])
@pytest.mark.parametrize("case", list(ACCEPTED))
def test_jpeg_png_webp_are_accepted_with_renditions(admin_client, target, case):
    filename, make, stored_format = ACCEPTED[case]
    response = target.post(admin_client, upload(filename, make(), "application/octet-stream"))
    assert response.status_code == HTTPStatus.FOUND, text_of(response)[:2000]

    obj = target.model.objects.get()
    assert (obj.image_width, obj.image_height) == (600, 400)
    files = stored_files()
    assert set(files) == {obj.image.name} | expected_renditions(obj.image)
    with Image.open(io.BytesIO(files[obj.image.name])) as original:
        assert original.format == stored_format
        assert getattr(original, "n_frames", 1) == 1
    assert linked_widths(600) == [(480, 480), (960, 600)]  # never upscaled
    for spec_width, width in linked_widths(600):
        for ext, fmt in (("jpg", "JPEG"), ("webp", "WEBP")):
            copy = files[rendition_file(obj.image, spec_width, ext).name]
            with Image.open(io.BytesIO(copy)) as img:
                assert (img.format, img.width) == (fmt, width)


def test_stored_original_is_re_encoded_so_appended_bytes_are_dropped(admin_client):
    payload = b"<html><script>alert(document.cookie)</script></html>"
    polyglot = picture("PNG") + payload  # Pillow reads the PNG and ignores what follows
    response = ARTICLE.post(admin_client, upload("photo.png", polyglot, "image/png"))
    assert response.status_code == HTTPStatus.FOUND
    for name, content in stored_files().items():
        assert b"<script" not in content, name


# --------------------------------------------------------------------------- storage API


def test_media_goes_through_the_configured_storage(
    admin_client, client, settings, django_capture_on_commit_callbacks
):
    """Swap STORAGES["default"] for InMemoryStorage: everything follows, the disk is untouched.

    What S3 through django-storages needs is exactly this: a settings change.
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.InMemoryStorage",
            "OPTIONS": {"base_url": "https://media.clinic.example/m/"},
        },
    }
    memory = storages["default"]
    assert isinstance(memory, InMemoryStorage)

    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (41.0, 49.0, 36.0), 3: "W", 4: (72.0, 43.0, 48.0)}  # GPS
    hero = picture("JPEG", size=(1600, 900), exif=exif.tobytes())
    response = ARTICLE.post(admin_client, upload("hero.jpg", hero, "image/jpeg"))
    assert response.status_code == HTTPStatus.FOUND, text_of(response)[:2000]

    article = Article.objects.get()
    assert article.image.storage.exists(article.image.name)
    files = stored_files(memory)
    renditions = expected_renditions(article.image)
    assert set(files) == {article.image.name} | renditions
    with Image.open(io.BytesIO(files[article.image.name])) as original:
        assert original.size == (1600, 900)
        assert not original.getexif()  # GPS stripped from the stored original too
    media_root = Path(settings.MEDIA_ROOT)
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))

    page = text_of(client.get(article.get_absolute_url()))
    match = re.search(r"<picture>.*?</picture>", page, re.S)
    assert match, "no <picture> on the article page"
    attributes = re.findall(r'(?:srcset|src)="([^"]+)"', match.group(0))
    urls = {entry.split()[0] for value in attributes for entry in value.split(",")}
    assert len(urls) == len(renditions)  # every rendition, each linked once or more
    for url in urls:
        assert url.startswith("https://media.clinic.example/m/"), url
        assert url.removeprefix("https://media.clinic.example/m/") in renditions, url

    # Replacing the picture in admin removes the old original and copies from that same
    # storage once the change is committed (django-cleanup).
    old_name = article.image.name
    with django_capture_on_commit_callbacks(execute=True):
        response = ARTICLE.post(
            admin_client,
            upload("second.png", picture("PNG", size=(1000, 500)), "image/png"),
            obj=article,
        )
    assert response.status_code == HTTPStatus.FOUND, text_of(response)[:2000]
    article.refresh_from_db()
    assert article.image.name != old_name
    assert set(stored_files(memory)) == {article.image.name} | expected_renditions(article.image)


# --------------------------------------------------------------------------- no orphans


def files_on_disk(media_root) -> set[str]:
    root = Path(media_root)
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def live_files(model) -> set[str]:
    """What the rows still point at: each picture's original and every copy of it."""
    live = set()
    for obj in model.objects.exclude(image=""):
        live |= {obj.image.name} | expected_renditions(obj.image)
    return live


@pytest.mark.parametrize("target", [ARTICLE, OFFICE], ids=["article", "office"])
def test_replaced_cleared_and_deleted_pictures_leave_no_file_behind(
    admin_client, target, settings, django_capture_on_commit_callbacks
):
    """Walks MEDIA_ROOT after every admin step: no file that no row points at, none at all
    once the row is deleted. Files are deleted after the commit, as in production."""

    def step(post):
        with django_capture_on_commit_callbacks(execute=True):
            response = post()
        assert response.status_code == HTTPStatus.FOUND, text_of(response)[:2000]
        on_disk = files_on_disk(settings.MEDIA_ROOT)
        assert on_disk == live_files(target.model), "orphans: " + ", ".join(
            sorted(on_disk - live_files(target.model))
        )
        return on_disk

    first = step(lambda: target.post(admin_client, upload("photo.jpg", picture(), "image/jpeg")))
    assert len(first) == 1 + len(SPECS)
    obj = target.model.objects.get()
    # The same file name again: the storage picks another name while the old one exists.
    again = upload("photo.jpg", picture("JPEG", size=(1600, 900)), "image/jpeg")
    second = step(lambda: target.post(admin_client, again, obj=obj))
    assert not first & second
    step(lambda: target.post(admin_client, "", obj=obj, **{"image-clear": "on"}))
    assert target.model.objects.get().image.name == ""
    step(lambda: target.post(admin_client, upload("new.png", picture("PNG"), "image/png"), obj=obj))
    delete = admin_url(target.model, "delete", obj.pk)
    assert not step(lambda: admin_client.post(delete, {"post": "yes"}))
    assert not target.model.objects.exists()
