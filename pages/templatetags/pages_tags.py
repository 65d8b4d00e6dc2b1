from django import template
from django.utils import timezone

from ..cache import active_offices, cached_for_content
from ..models import Promotion

register = template.Library()


@register.inclusion_tag("includes/promotion_banner.html")
def promotion_banner():
    """Active promotions marked as site-wide banners; they vanish by themselves when over."""
    today = timezone.localdate()
    banners = cached_for_content(
        f"banners:{today.isoformat()}",
        lambda: list(Promotion.objects.active(today).filter(show_as_banner=True)),
    )
    return {"banners": banners}


@register.inclusion_tag("includes/footer_offices.html")
def footer_offices():
    return {"offices": active_offices()}


@register.inclusion_tag("includes/picture.html")
def picture(obj, sizes="100vw", loading="lazy", css_class=""):
    """A responsive ``<picture>`` (WebP, then JPEG) for a model with one image field."""
    return {
        "renditions": obj.image_renditions() if obj else None,
        "alt": getattr(obj, "image_alt", ""),
        "sizes": sizes,
        "loading": loading,
        "css_class": css_class,
    }
