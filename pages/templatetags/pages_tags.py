from django import template

from ..models import Office, Promotion

register = template.Library()


@register.inclusion_tag("includes/promotion_banner.html")
def promotion_banner():
    """Active promotions marked as site-wide banners; they vanish by themselves when over."""
    return {"banners": Promotion.objects.active().filter(show_as_banner=True)}


@register.inclusion_tag("includes/footer_offices.html")
def footer_offices():
    return {"offices": Office.objects.active().only("name", "slug", "phone")}


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
