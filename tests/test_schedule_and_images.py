import datetime
import io
import os
import subprocess
import sys
import zoneinfo
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from pages.images import RENDITION_SPECS, RENDITION_WIDTHS, rendition_name
from pages.models import Office
from pages.picture_files import rendition_file
from pages.schedule import office_schedule

from .factories import (
    ArticleFactory,
    ClosureFactory,
    OfficeFactory,
    OpeningHoursFactory,
    image_bytes,
)

pytestmark = pytest.mark.django_db

NY = zoneinfo.ZoneInfo("America/New_York")


def at(day, hour, minute=0):
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=NY)  # 2026-11-16 is a Monday


@pytest.fixture
def office():
    office = OfficeFactory()
    OpeningHoursFactory(office=office, weekday=0, opens="07:00", closes="12:00")
    OpeningHoursFactory(office=office, weekday=0, opens="13:00", closes="19:00")
    OpeningHoursFactory(office=office, weekday=5, opens="08:00", closes="12:00")
    return office


def schedule(office, now):
    return office_schedule(Office.objects.with_schedule(now.date()).get(pk=office.pk), now)


def test_open_during_a_period_and_closed_over_lunch(office):
    assert schedule(office, at(16, 9)).is_open_now
    assert schedule(office, at(16, 9)).status_text == "Open now · until 12 PM"
    lunch = schedule(office, at(16, 12, 30))
    assert not lunch.is_open_now and lunch.status_text == "Closed now · opens at 1 PM"
    assert schedule(office, at(16, 19)).status_text == "Closed now"


def test_day_without_rows_is_closed_and_week_starts_today(office):
    result = schedule(office, at(18, 10))  # Wednesday
    assert not result.is_open_now
    assert [d.name for d in result.days][0] == "Monday"
    today = [d for d in result.days if d.is_today]
    assert len(today) == 1 and today[0].name == "Wednesday" and today[0].is_closed
    monday = result.days[0]
    assert monday.date == datetime.date(2026, 11, 23)  # next Monday, not the past one
    assert len(monday.periods) == 2


def test_holiday_closure_overrides_hours(office):
    ClosureFactory(office=office, date=datetime.date(2026, 11, 16), reason="Staff day")
    result = schedule(office, at(16, 9))
    assert not result.is_open_now
    assert result.status_text == "Closed today · Staff day"
    assert [c.reason for c in result.upcoming_closures] == ["Staff day"]


def jpeg_with_gps():
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    gps = {1: "N", 2: (41.0, 49.0, 36.0), 3: "W", 4: (72.0, 43.0, 48.0)}
    exif[0x8825] = gps
    return image_bytes(2000, 1000, exif=exif.tobytes())


def test_renditions_are_written_on_save_without_exif(settings):
    article = ArticleFactory(image_alt="A test picture")
    article.image.save("hero.jpg", ContentFile(jpeg_with_gps()), save=False)
    with Image.open(article.image.path) as original:
        assert original.getexif()  # the fixture really carries EXIF
    article.save()
    for width in RENDITION_WIDTHS:
        for ext, fmt in (("webp", "WEBP"), ("jpg", "JPEG")):
            name = rendition_file(article.image, width, ext).name
            assert default_storage.exists(name), name
            with default_storage.open(name) as fh, Image.open(fh) as img:
                assert (img.format, img.width) == (fmt, width)
                assert not img.getexif()
                assert "exif" not in img.info and "xmp" not in img.info
    renditions = article.image_renditions()
    assert "480w" in renditions.webp_srcset and "1440w" in renditions.jpeg_srcset
    assert (renditions.width, renditions.height) == (1440, 720)


def test_small_picture_is_not_upscaled():
    office = OfficeFactory(image_alt="Front desk")
    office.image.save("small.png", ContentFile(image_bytes(600, 400, fmt="PNG")), save=True)
    renditions = office.image_renditions()
    assert renditions.width == 600 and "1440w" not in renditions.jpeg_srcset
    assert "480w" in renditions.jpeg_srcset and "600w" in renditions.jpeg_srcset


def test_replacing_a_picture_removes_old_renditions(django_capture_on_commit_callbacks):
    article = ArticleFactory(image_alt="One")
    article.image.save("one.jpg", ContentFile(image_bytes(1000, 500)), save=True)
    old_original = article.image.name
    old = rendition_file(article.image, 480, "jpg").name
    assert default_storage.exists(old)
    with django_capture_on_commit_callbacks(execute=True):
        article.image.save("two.jpg", ContentFile(image_bytes(1000, 500)), save=True)
    assert not default_storage.exists(old)
    assert not default_storage.exists(old_original)
    assert default_storage.exists(rendition_file(article.image, 480, "jpg").name)


def test_a_name_used_again_after_a_deletion_gets_fresh_renditions(
    django_capture_on_commit_callbacks,
):
    """django-cleanup frees the name; a new upload under it must get its own copies."""
    first = ArticleFactory(image_alt="One")
    first.image.save("same.jpg", ContentFile(image_bytes(1000, 500)), save=True)
    name, copy = first.image.name, rendition_file(first.image, 480, "jpg").name
    with django_capture_on_commit_callbacks(execute=True):
        first.delete()
    assert not default_storage.exists(name) and not default_storage.exists(copy)
    second = ArticleFactory(image_alt="Two")
    second.image.save("same.jpg", ContentFile(image_bytes(1000, 500)), save=True)
    assert second.image.name == name
    assert default_storage.exists(copy)


def test_rgba_png_becomes_a_valid_jpeg():
    buffer = io.BytesIO()
    Image.new("RGBA", (800, 600), (10, 20, 30, 0)).save(buffer, "PNG")
    office = OfficeFactory(image_alt="Logo")
    office.image.save("logo.png", ContentFile(buffer.getvalue()), save=True)
    with default_storage.open(rendition_file(office.image, 480, "jpg").name) as fh:
        img = Image.open(fh)
        assert img.mode == "RGB"
        assert img.getpixel((0, 0)) == (255, 255, 255)  # transparent became white


def test_uploaded_original_is_stored_without_exif():
    article = ArticleFactory(image_alt="Hero")
    article.image = SimpleUploadedFile("gps.jpg", jpeg_with_gps(), content_type="image/jpeg")
    article.save()
    with default_storage.open(article.image.name) as fh, Image.open(fh) as img:
        assert img.size == (2000, 1000)
        assert not img.getexif()
    assert (article.image_width, article.image_height) == (2000, 1000)


def test_a_page_with_a_picture_never_touches_storage_or_pillow(client, clinic, monkeypatch):
    """Copies are written on save; a visitor's page view only builds their URLs."""
    article = ArticleFactory(image_alt="Hero")
    article.image.save("hero.jpg", ContentFile(image_bytes(2000, 1000)), save=True)

    def refuse(*args, **kwargs):
        raise AssertionError("storage or Pillow used while a page renders")

    media = storages["default"]  # behind default_storage, the image fields and imagekit
    for method in ("open", "exists", "save", "listdir", "size", "delete"):
        monkeypatch.setattr(media, method, refuse)
    monkeypatch.setattr(Image, "open", refuse)
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    assert response.content.count(b"/media/renditions/articles/hero.") >= 6


def test_generateimages_writes_missing_copies_again():
    """After restoring originals alone: ``manage.py generateimages`` writes the copies."""
    article = ArticleFactory(image_alt="Hero")
    article.image.save("hero.jpg", ContentFile(image_bytes(1000, 500)), save=True)
    names = [rendition_name(article.image.name, width, ext) for width, ext in RENDITION_SPECS]
    assert names == [rendition_file(article.image, w, ext).name for w, ext in RENDITION_SPECS]
    for name in names:
        default_storage.delete(name)
    call_command("generateimages", stdout=io.StringIO())
    assert all(default_storage.exists(name) for name in names)


# Run in a fresh interpreter: this test run has imported Pillow and imagekit long ago.
SERVING_ONLY = """
import sys
import django
django.setup()
from django.template import Context, Template
from django.urls import get_resolver
from pages.models import Article
from pages.seo import image_url
get_resolver().url_patterns  # every view module, as a worker loads them
article = Article(image="articles/hero.jpg", image_width=2000, image_height=1000)
html = Template("{% load pages_tags %}{% picture article %}").render(Context({"article": article}))
assert html.count("/media/renditions/articles/hero.") >= 6 and image_url(article), html
print(sorted({name.split(".")[0] for name in sys.modules} & {"PIL", "imagekit", "pilkit", "nh3"}))
"""


def test_serving_pages_loads_neither_pillow_nor_imagekit_nor_the_sanitizer():
    """Names and URLs come from pure functions and the body's sanitizer loads on the first
    save: a worker that only serves pages stays small."""
    result = subprocess.run(
        [sys.executable, "-c", SERVING_ONLY],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "clinic_site.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
