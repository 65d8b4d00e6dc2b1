import datetime
import io
import zoneinfo

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from pages.images import rendition_name
from pages.models import Office
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
    for width in (480, 960, 1440):
        for ext in ("webp", "jpg"):
            name = rendition_name(article.image.name, width, ext)
            assert default_storage.exists(name), name
            with default_storage.open(name) as fh, Image.open(fh) as img:
                assert img.width == width
                assert not img.getexif()
    renditions = article.image_renditions()
    assert "480w" in renditions.webp_srcset and "1440w" in renditions.jpeg_srcset
    assert (renditions.width, renditions.height) == (1440, 720)


def test_small_picture_is_not_upscaled():
    office = OfficeFactory(image_alt="Front desk")
    office.image.save("small.png", ContentFile(image_bytes(600, 400, fmt="PNG")), save=True)
    renditions = office.image_renditions()
    assert renditions.width == 600 and "1440w" not in renditions.jpeg_srcset
    assert "480w" in renditions.jpeg_srcset and "600w" in renditions.jpeg_srcset


def test_replacing_a_picture_removes_old_renditions():
    article = ArticleFactory(image_alt="One")
    article.image.save("one.jpg", ContentFile(image_bytes(1000, 500)), save=True)
    old = rendition_name(article.image.name, 480, "jpg")
    assert default_storage.exists(old)
    article.image.save("two.jpg", ContentFile(image_bytes(1000, 500)), save=True)
    assert not default_storage.exists(old)
    assert default_storage.exists(rendition_name(article.image.name, 480, "jpg"))


def test_rgba_png_becomes_a_valid_jpeg():
    buffer = io.BytesIO()
    Image.new("RGBA", (800, 600), (10, 20, 30, 0)).save(buffer, "PNG")
    office = OfficeFactory(image_alt="Logo")
    office.image.save("logo.png", ContentFile(buffer.getvalue()), save=True)
    with default_storage.open(rendition_name(office.image.name, 480, "jpg")) as fh:
        assert Image.open(fh).mode == "RGB"


def test_uploaded_original_is_stored_without_exif():
    article = ArticleFactory(image_alt="Hero")
    article.image = SimpleUploadedFile("gps.jpg", jpeg_with_gps(), content_type="image/jpeg")
    article.save()
    with default_storage.open(article.image.name) as fh, Image.open(fh) as img:
        assert img.size == (2000, 1000)
        assert not img.getexif()
    assert (article.image_width, article.image_height) == (2000, 1000)
