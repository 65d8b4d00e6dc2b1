"""Uploaded pictures: strict validation, and resized copies for responsive ``srcset``.

Renditions are written once, when a picture is saved, through Django's storage API, so
pages never touch the disk or Pillow while rendering. Re-encoding drops EXIF (GPS
included) from every copy that a page links to.
"""

import io
import logging
import math
import posixpath
import re
import warnings
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

RENDITION_WIDTHS = (480, 960, 1440)
RENDITION_FORMATS = (("webp", "WEBP"), ("jpg", "JPEG"))  # file extension, Pillow format
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
# Pillow calls a JPEG that carries a second picture "MPO": phones put an HDR gain map or a
# depth map there (Ultra HDR, portrait mode). It is a JPEG file; only the main picture is kept.
JPEG_VARIANTS = {"MPO"}


def _image_format(img) -> str:
    return "JPEG" if img.format in JPEG_VARIANTS else img.format


def _file_size(size: int, *, round_up: bool) -> str:
    """10485761 -> '10.1 MB' (rounded up), 10485760 -> '10 MB', 50000 -> '48.8 KB'."""
    unit, scale = ("MB", 1_048_576) if size >= 1_048_576 else ("KB", 1024)
    tenths = size * 10 / scale
    tenths = math.ceil(tenths) if round_up else math.floor(tenths)
    return f"{tenths / 10:g} {unit}"


def validate_image_upload(value):
    """Model-field validator: a new upload is checked; a stored picture was checked already."""
    if value and not getattr(value, "_committed", True):
        check_image_file(value)


def check_image_file(value):
    """Refuse anything but a complete JPEG, PNG or WebP of sane size, with a clear message."""
    max_bytes = settings.MAX_UPLOAD_IMAGE_BYTES
    if value.size is not None and value.size > max_bytes:
        raise ValidationError(
            f"This file is too large ({_file_size(value.size, round_up=True)}). "
            f"Please upload a picture of at most {_file_size(max_bytes, round_up=False)}.",
            code="image_too_large",
        )
    max_pixels = settings.MAX_UPLOAD_IMAGE_PIXELS
    upload = getattr(value, "file", value)
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as img:
                if _image_format(img) not in ALLOWED_FORMATS:
                    raise ValidationError(
                        "Please upload a JPEG, PNG or WebP picture.", code="image_format"
                    )
                width, height = img.size
                if width * height > max_pixels:
                    scale = math.sqrt(max_pixels / (width * height))
                    fit = f"{math.floor(width * scale)}×{math.floor(height * scale)}"
                    raise ValidationError(
                        f"This picture is {width}×{height} pixels, which is too large to "
                        f"use. Please resize it to at most {fit} pixels and upload it again.",
                        code="image_too_many_pixels",
                    )
                img.load()  # decodes every pixel: a truncated or corrupt file fails here
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationError(
            "This picture is too large to use. Please resize it and upload it again.",
            code="image_too_many_pixels",
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(
            "This file is not a picture we can use, or it is damaged. "
            "Please upload a JPEG, PNG or WebP picture.",
            code="image_damaged",
        ) from exc
    finally:
        upload.seek(0)


class CheckedImageField(forms.ImageField):
    """Runs our checks before Django's own, so staff read why a picture was refused.

    Django opens the upload with Pillow first and reports any failure (including a
    decompression bomb) as a generic "not an image"; checking first gives the real reason.
    """

    def to_python(self, data):
        if data is not None and hasattr(data, "size"):
            check_image_file(data)
        return super().to_python(data)


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    url: str


@dataclass(frozen=True)
class RenditionSet:
    """What a template needs for ``<picture>``: a WebP and a JPEG ``srcset`` and a fallback."""

    webp_srcset: str
    jpeg_srcset: str
    src: str
    width: int
    height: int


def without_metadata(upload) -> ContentFile:
    """The uploaded picture re-encoded without EXIF (GPS, camera, dates), turned upright.

    The original is kept in media storage and reachable by its URL, so it is cleaned too.
    """
    upload.seek(0)
    with Image.open(upload) as img:
        fmt = _image_format(img)
        upright = ImageOps.exif_transpose(img)
        buffer = io.BytesIO()
        options = {"quality": 92} if fmt in ("JPEG", "WEBP") else {}
        upright.save(buffer, fmt, **options)
    return ContentFile(buffer.getvalue(), name=posixpath.basename(upload.name))


def rendition_name(name: str, width: int, ext: str) -> str:
    stem = posixpath.splitext(name)[0]
    return f"renditions/{stem}-{width}w.{ext}"


def widths_for(original_width: int) -> list[int]:
    widths = [w for w in RENDITION_WIDTHS if w < original_width]
    if original_width <= RENDITION_WIDTHS[-1]:
        widths.append(original_width)
    return widths


def renditions_for(fieldfile) -> RenditionSet | None:
    """The ``srcset`` data for a stored picture, computed from its recorded size (no I/O)."""
    if not fieldfile:
        return None
    instance, field = fieldfile.instance, fieldfile.field
    width = getattr(instance, field.width_field or "", None)
    height = getattr(instance, field.height_field or "", None)
    if not width or not height:
        return None
    widths = widths_for(width)
    sets = {}
    for ext, _fmt in RENDITION_FORMATS:
        sets[ext] = ", ".join(
            f"{default_storage.url(rendition_name(fieldfile.name, w, ext))} {w}w" for w in widths
        )
    largest = widths[-1]
    return RenditionSet(
        webp_srcset=sets["webp"],
        jpeg_srcset=sets["jpg"],
        src=default_storage.url(rendition_name(fieldfile.name, largest, "jpg")),
        width=largest,
        height=round(height * largest / width),
    )


def make_renditions(fieldfile) -> list[str]:
    """Write the resized WebP and JPEG copies of a stored picture; returns their names."""
    written = []
    with fieldfile.storage.open(fieldfile.name, "rb") as fh, Image.open(fh) as img:
        img = ImageOps.exif_transpose(img)
        if img.mode not in ("RGB", "RGBA"):
            img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
        for width in widths_for(img.width):
            height = max(1, round(img.height * width / img.width))
            resized = img.resize((width, height), Image.Resampling.LANCZOS)
            for ext, fmt in RENDITION_FORMATS:
                out = resized
                if fmt == "JPEG" and out.mode == "RGBA":
                    background = Image.new("RGB", out.size, "white")
                    background.paste(out, mask=out.getchannel("A"))
                    out = background
                buffer = io.BytesIO()
                # No exif= argument: the copies carry no EXIF, GPS or camera data.
                out.save(buffer, fmt, quality=82, optimize=fmt == "JPEG")
                name = rendition_name(fieldfile.name, width, ext)
                if default_storage.exists(name):
                    default_storage.delete(name)
                default_storage.save(name, ContentFile(buffer.getvalue()))
                written.append(name)
    return written


def delete_renditions(name: str) -> None:
    """Remove every resized copy of the picture stored as ``name``."""
    directory, filename = posixpath.split(rendition_name(name, 0, "x"))
    stem = filename[: -len("-0w.x")]
    pattern = re.compile(re.escape(stem) + r"-\d+w\.(webp|jpg)$")
    try:
        _dirs, files = default_storage.listdir(directory)
    except (FileNotFoundError, NotImplementedError):
        return
    for file in files:
        if pattern.match(file):
            default_storage.delete(posixpath.join(directory, file))
