import datetime
import io

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from clinic_site.models import ClinicSettings
from contact.models import ConsultationRequest
from pages.models import (
    Article,
    Clinician,
    Closure,
    MenuItem,
    Office,
    OpeningHours,
    Page,
    Promotion,
    Service,
)


def image_bytes(width=1600, height=900, fmt="JPEG", color=(30, 120, 200), exif=None):
    buffer = io.BytesIO()
    img = Image.new("RGB", (width, height), color)
    kwargs = {"exif": exif} if exif is not None else {}
    img.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def uploaded_image(name="photo.jpg", **kwargs):
    fmt = kwargs.pop("fmt", "JPEG")
    return SimpleUploadedFile(name, image_bytes(fmt=fmt, **kwargs), content_type="image/jpeg")


class ClinicSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClinicSettings
        django_get_or_create = ("id",)

    id = 1
    name = "Test Motion Clinic"
    tagline = "Move better"
    phone = "(860) 555-0199"
    email = "hello@clinic.example"
    footer_text = "Footer words for the tests."


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"Article number {n}")
    slug = factory.Sequence(lambda n: f"article-{n}")
    summary = "A short summary of the article."
    body = "<h2>Heading</h2><p>Body text.</p>"
    author = "Sam Writer"
    status = Article.Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office

    name = factory.Sequence(lambda n: f"Office {n}")
    slug = factory.Sequence(lambda n: f"office-{n}")
    street = "1 Main Street"
    suite = "Ste 2"
    city = "Hartford"
    state = "CT"
    zip_code = "06103"
    phone = "(860) 555-0150"
    display_order = factory.Sequence(lambda n: n)


class OpeningHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OpeningHours

    office = factory.SubFactory(OfficeFactory)
    weekday = 0
    opens = datetime.time(8, 0)
    closes = datetime.time(17, 0)


class ClosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Closure

    office = factory.SubFactory(OfficeFactory)
    date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=3))
    reason = "Staff training day"


class PromotionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Promotion

    title = factory.Sequence(lambda n: f"Offer {n}")
    slug = factory.Sequence(lambda n: f"offer-{n}")
    eligibility = "Firefighters, military, EMTs and police officers"
    amount = "50.00"
    applies_to = "fitness memberships"
    fine_print = "Some exclusions may apply."


def due_requests(count: int) -> list[ConsultationRequest]:
    """``count`` consultation requests due for mail now (a phone number, no email: one staff
    mail each), in the order a worker claims them."""
    past = timezone.now() - datetime.timedelta(minutes=1)
    rows = [
        ConsultationRequest(
            name=f"Patient {n}",
            phone="(860) 555-0123",
            contact_method="phone",
            best_time="morning",
            consent_at=past,
            received_at=past,
            next_attempt_at=past + datetime.timedelta(microseconds=n),  # claimed in order
        )
        for n in range(count)
    ]
    ConsultationRequest.objects.bulk_create(rows)
    return list(ConsultationRequest.objects.order_by("next_attempt_at"))


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    title = factory.Sequence(lambda n: f"Service number {n}")
    slug = factory.Sequence(lambda n: f"service-{n}")
    summary = "What the service is, in a sentence."
    body = "<h2>How it works</h2><p>Body text.</p>"
    who_it_helps = "Runners\nDesk workers"


class ClinicianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinician

    name = factory.Sequence(lambda n: f"Pat Therapist {n}")
    slug = factory.Sequence(lambda n: f"pat-therapist-{n}")
    credentials = "PT, DPT"
    role = "Physical therapist"
    bio = "<p>Enjoys helping people move again.</p>"
    languages = "English, Spanish"


class PageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Page

    title = factory.Sequence(lambda n: f"Page number {n}")
    slug = factory.Sequence(lambda n: f"page-{n}")
    summary = "What the page is about."
    body = "<p>Page text.</p>"


class MenuItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MenuItem

    location = MenuItem.Location.MAIN
    section = "articles"
