"""Work on picture files with Pillow and django-imagekit: upload checks, EXIF removal, copies.

Imported only where a file is read or written (an upload, a save, ``generateimages``),
never by a page: Pillow and imagekit stay out of a worker that only serves pages.
pages/images.py names the copies and calls in here.
"""

import functools
import io
import math
import posixpath
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from imagekit import ImageSpec, register
from imagekit.cachefiles import ImageCacheFile
from imagekit.cachefiles.backends import CacheFileState, Simple
from imagekit.specs.sourcegroups import ImageFieldSourceGroup
from PIL import Image, ImageOps, UnidentifiedImageError
from pilkit.processors import ResizeToFit, Transpose

from .images import RENDITION_FORMATS, RENDITION_SPECS, rendition_name

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


# --------------------------------------------------------------------------- renditions


class StorageStateBackend(Simple):
    """imagekit's synchronous backend, asking the storage whether a copy exists.

    Its parent remembers "exists" in the cache for ever: after django-cleanup deleted a
    picture's copies, ``generateimages`` would skip a new upload that reuses the name.
    """

    def get_state(self, file, check_if_unknown=True):
        return CacheFileState.EXISTS if self._exists(file) else CacheFileState.DOES_NOT_EXIST

    def set_state(self, file, state):
        pass


class RenditionSpec(ImageSpec):
    """One resized copy: upright, at most ``width`` wide (never upscaled), one format."""

    width: int
    ext: str
    cachefile_backend = StorageStateBackend()

    @property
    def cachefile_name(self):
        # The name pages link, from pages/images.py: imagekit's own namer pickles the spec.
        return rendition_name(self.source.name, self.width, self.ext) if self.source else None


def _rendition_spec(width: int, ext: str) -> type[RenditionSpec]:
    fmt, options = RENDITION_FORMATS[ext]
    attrs = {
        "width": width,
        "ext": ext,
        "format": fmt,
        "options": options,
        "processors": [Transpose(), ResizeToFit(width=width, upscale=False)],
    }
    return type(f"Rendition{width}{ext.title()}", (RenditionSpec,), attrs)


SPECS = {(width, ext): _rendition_spec(width, ext) for width, ext in RENDITION_SPECS}


def rendition_file(picture, width: int, ext: str) -> ImageCacheFile:
    """The copy of ``picture`` (a stored file: anything with its ``name``) for one spec."""
    return ImageCacheFile(SPECS[width, ext](source=picture))


def write_renditions(picture, specs) -> None:
    """Write the copies of ``picture`` for ``specs``: (width, ext) pairs the storage lacks."""
    for width, ext in specs:
        rendition_file(picture, width, ext).generate(force=True)


@functools.cache
def register_renditions(*models) -> None:
    """Let ``manage.py generateimages`` find every copy of each model's ``image``.

    Only that command registers them: a registered source group has imagekit watch every
    model instance created or saved in the process.
    """
    for (width, ext), spec in SPECS.items():
        register.generator(f"pages:rendition:{width}:{ext}", spec)
    for model in models:
        group = ImageFieldSourceGroup(model, "image")
        for width, ext in SPECS:
            register.source_group(f"pages:rendition:{width}:{ext}", group)
