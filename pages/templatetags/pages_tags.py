from django import template

from ..models import Office, Promotion

register = template.Library()


@register.inclusion_tag("includes/promotion_banner.html", takes_context=True)
def promotion_banner(context):
    """Active promotions marked as site-wide banners; they vanish by themselves when over."""
    banners = context.get("site_banners")  # pages.context_processors
    if banners is None:
        banners = Promotion.objects.active().filter(show_as_banner=True)
    return {"banners": banners}


@register.inclusion_tag("includes/footer_offices.html", takes_context=True)
def footer_offices(context):
    offices = context.get("site_offices")  # pages.context_processors
    return {"offices": Office.objects.active() if offices is None else offices}


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
