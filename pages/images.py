"""Uploaded pictures on pages: resized copies (renditions) for responsive ``srcset``.

The copies are written when a picture is saved (pages/picture_files.py, with Pillow and
django-imagekit, which strip EXIF); a page only builds their names and URLs from the row,
by pure functions here, so a worker serving pages never imports Pillow. When a picture is
replaced or its row deleted, django-cleanup deletes the original and ``delete_renditions``
(connected in pages/models.py) its copies.
"""

import functools
import hashlib
import posixpath
from dataclasses import dataclass

from django import forms
from django.core.files.storage import default_storage

RENDITION_WIDTHS = (480, 960, 1440)
# File extension -> Pillow format and save options. No exif= option: copies carry none.
RENDITION_FORMATS = {
    "webp": ("WEBP", {"quality": 82}),
    "jpg": ("JPEG", {"quality": 82, "optimize": True, "progressive": True}),
}
RENDITION_SPECS = tuple((width, ext) for width in RENDITION_WIDTHS for ext in RENDITION_FORMATS)
# In every copy's name: raise it when copies are made differently (the processors in
# pages/picture_files.py), so browsers, which keep pictures a week, fetch the new ones.
RENDITION_VERSION = 1


def validate_image_upload(value):
    """Model-field validator: a new upload is checked; a stored picture was checked already."""
    if value and not getattr(value, "_committed", True):
        from .picture_files import check_image_file  # Pillow: only when a file is read

        check_image_file(value)


class CheckedImageField(forms.ImageField):
    """Runs our checks before Django's own, so staff read why a picture was refused.

    Django opens the upload with Pillow first and reports any failure (including a
    decompression bomb) as a generic "not an image"; checking first gives the real reason.
    """

    def to_python(self, data):
        if data is not None and hasattr(data, "size"):
            from .picture_files import check_image_file

            check_image_file(data)
        return super().to_python(data)


@functools.lru_cache(maxsize=1024)
def rendition_name(source_name: str, width: int, ext: str) -> str:
    """('articles/hero.jpg', 480, 'webp') -> 'renditions/articles/hero.<12 hex>.webp'.

    The hash, of the original's name and the spec, tells hero.jpg's copies from hero.png's
    and gives a changed spec new URLs. Kept per process: a page asks for each name 3 times.
    """
    directory, filename = posixpath.split(source_name)
    fmt, options = RENDITION_FORMATS[ext]
    spec = f"{source_name}|{width}|{fmt}|{sorted(options.items())}|{RENDITION_VERSION}"
    digest = hashlib.md5(spec.encode(), usedforsecurity=False).hexdigest()[:12]
    stem = posixpath.splitext(filename)[0]
    return posixpath.join("renditions", directory, f"{stem}.{digest}.{ext}")


def linked_widths(original_width: int) -> list[tuple[int, int]]:
    """(spec width, real width) of the copies a page links: every spec narrower than the
    original, then the first that is not, which (never upscaled) has the original's width."""
    linked = []
    for width in RENDITION_WIDTHS:
        linked.append((width, min(width, original_width)))
        if width >= original_width:
            break
    return linked


@dataclass(frozen=True)
class RenditionSet:
    """What a template needs for ``<picture>``: a WebP and a JPEG ``srcset`` and a fallback."""

    webp_srcset: str
    jpeg_srcset: str
    src: str
    width: int
    height: int


def renditions_for(fieldfile) -> RenditionSet | None:
    """The ``srcset`` data for a stored picture, from its recorded size: URLs only, no I/O."""
    if not fieldfile:
        return None
    instance, field = fieldfile.instance, fieldfile.field
    width = getattr(instance, field.width_field or "", None)
    height = getattr(instance, field.height_field or "", None)
    if not width or not height:
        return None
    name, url = fieldfile.name, default_storage.url
    linked = linked_widths(width)
    srcsets = {
        ext: ", ".join(f"{url(rendition_name(name, w, ext))} {real}w" for w, real in linked)
        for ext in RENDITION_FORMATS
    }
    largest, largest_width = linked[-1]
    return RenditionSet(
        webp_srcset=srcsets["webp"],
        jpeg_srcset=srcsets["jpg"],
        src=url(rendition_name(name, largest, "jpg")),
        width=largest_width,
        height=round(height * largest_width / width),
    )


def write_missing_renditions(picture) -> None:
    """Write every copy of ``picture`` (a stored file) that the storage lacks."""
    missing = [
        (width, ext)
        for width, ext in RENDITION_SPECS
        if not default_storage.exists(rendition_name(picture.name, width, ext))
    ]
    if missing:
        from .picture_files import write_renditions  # Pillow and imagekit: only to write

        write_renditions(picture, missing)


def delete_renditions(picture) -> None:
    """Delete every copy of ``picture`` (a stored file, or one django-cleanup is deleting)."""
    for width, ext in RENDITION_SPECS:
        default_storage.delete(rendition_name(picture.name, width, ext))
