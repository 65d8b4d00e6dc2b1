from django import template
from django.utils import timezone

from ..cache import active_offices, cached_for_content, page_fragment
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


class FragmentNode(template.Node):
    def __init__(self, nodelist, name, vary):
        self.nodelist = nodelist
        self.name = name
        self.vary = vary

    def render(self, context):
        vary = tuple(expression.resolve(context) for expression in self.vary)
        return page_fragment(self.name, vary, lambda: self.nodelist.render(context))


@register.tag
def fragment(parser, token):
    """``{% fragment "name" value… %}…{% endfragment %}``: a part of a public page kept in the
    shared cache until the next content edit (pages/cache.py ``page_fragment``).

    The values name everything the part depends on besides the site's content (e.g. the
    page's path for the header's current link); use it only for parts that show nothing
    that changes by the hour (no "open now"), since a fragment lives until midnight.
    """
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError('Usage: {% fragment "name" value… %}')
    name = bits[1].strip("\"'")
    vary = [parser.compile_filter(bit) for bit in bits[2:]]
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(nodelist, name, vary)
