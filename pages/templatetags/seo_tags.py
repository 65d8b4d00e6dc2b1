"""Template tags for what search engines and link previews read (see pages/seo.py).

Every tag works from objects the view already loaded (``clinic_jsonld`` reads the offices
with their hours when the view passes none).
"""

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe

from clinic_site import breadcrumbs

from .. import seo
from ..models import Office

register = template.Library()


class CaptureNode(template.Node):
    def __init__(self, nodelist, var_name):
        self.nodelist = nodelist
        self.var_name = var_name

    def render(self, context):
        output = mark_safe(" ".join(self.nodelist.render(context).split()))
        context[self.var_name] = output
        return output


@register.tag
def capture(parser, token):
    """``{% capture as name %}…{% endcapture %}``: output the content and keep it as ``name``.

    base.html wraps the ``title`` and ``description`` blocks in it, so the Open Graph and
    Twitter tags and the breadcrumbs repeat exactly what a page's blocks say. Whitespace
    runs are collapsed to one space. The content is rendered (escaped) HTML.
    """
    bits = token.split_contents()
    if len(bits) != 3 or bits[1] != "as":
        raise template.TemplateSyntaxError("Usage: {% capture as name %}…{% endcapture %}")
    nodelist = parser.parse(("endcapture",))
    parser.delete_first_token()
    return CaptureNode(nodelist, bits[2])


@register.filter
def iso_datetime(value):
    """For ``<time datetime>``: local time to the second; HTML allows at most 3 decimals."""
    return seo.iso_datetime(value) if value else ""


def _page_number(context):
    page_obj = context.get("page_obj")
    return getattr(page_obj, "number", None)


@register.simple_tag(takes_context=True)
def canonical_url(context):
    """``SITE_URL`` + this page's path (``?page=N`` kept on page 2 and later of a list)."""
    request = context.get("request")
    if request is None:
        return ""
    return seo.canonical_url(request, _page_number(context))


@register.inclusion_tag("includes/seo/social_meta.html", takes_context=True)
def social_meta(context, image_obj=None, article=None):
    """Open Graph and Twitter card tags, from the page's title and description blocks.

    ``image_obj``: a model with a picture (an office), used as og:image when it has one;
    otherwise the site's default picture (seo.DEFAULT_IMAGE), so every preview has one.
    ``article``: makes the page ``og:type`` article, with its dates and picture.
    """
    request = context.get("request")
    clinic = context.get("clinic")
    image_obj = image_obj or article
    renditions = image_obj.image_renditions() if image_obj is not None else None
    if renditions:
        image = {
            "url": seo.absolute_url(renditions.src),
            "type": "image/jpeg",
            "width": renditions.width,
            "height": renditions.height,
            "alt": getattr(image_obj, "image_alt", ""),
        }
    else:
        image = {**seo.DEFAULT_IMAGE, "url": seo.default_image_url(), "alt": ""}
    extra = []
    if article is not None:
        extra = [
            ("article:published_time", seo.iso_datetime(article.published_at)),
            ("article:modified_time", seo.iso_datetime(article.updated_at)),
        ]
    return {
        "og_type": "article" if article is not None else "website",
        "title": seo.plain_text(context.get("seo_title")),
        "description": seo.plain_text(context.get("seo_description")),
        "url": seo.canonical_url(request, _page_number(context)) if request else "",
        "site_name": getattr(clinic, "name", ""),
        "image": image,
        "extra": extra,
    }


@register.simple_tag(takes_context=True)
def breadcrumb_trail(context):
    """``{% breadcrumb_trail as crumbs %}``: ``Crumb(name, path)`` from Home to this page."""
    return breadcrumbs.trail(context)


@register.simple_tag(takes_context=True)
def breadcrumbs_jsonld(context):
    data = seo.breadcrumb_list(breadcrumbs.trail(context))
    return seo.jsonld_script(data) if data else ""


@register.simple_tag(takes_context=True)
def clinic_jsonld(context, promotions=(), offices=None):
    """The home page's clinic node: every active office (hours, closures) and the offers."""
    if offices is None:
        offices = Office.objects.active().with_schedule(timezone.localdate())
    node = seo.clinic_node(context.get("clinic"), list(offices), list(promotions))
    return seo.jsonld_script(node)


@register.simple_tag(takes_context=True)
def office_jsonld(context, office):
    return seo.jsonld_script(seo.office_node(office, context.get("clinic")))


@register.simple_tag(takes_context=True)
def offices_jsonld(context, offices):
    return seo.jsonld_script(seo.offices_graph(list(offices), context.get("clinic")))


@register.simple_tag(takes_context=True)
def article_jsonld(context, article):
    return seo.jsonld_script(seo.article_node(article, context.get("clinic")))


@register.simple_tag(takes_context=True)
def article_list_jsonld(context, articles):
    request = context.get("request")
    if request is None:
        return ""
    node = seo.article_list_node(
        request,
        context.get("clinic"),
        list(articles or ()),
        context.get("page_obj"),
        title=seo.plain_text(context.get("seo_title")),
        description=seo.plain_text(context.get("seo_description")),
    )
    return seo.jsonld_script(node)


@register.simple_tag(takes_context=True)
def offer_jsonld(context, promotion):
    return seo.jsonld_script(seo.offer_node(promotion, context.get("clinic")))


@register.simple_tag(takes_context=True)
def clinician_jsonld(context, clinician):
    """A clinician's profile: pass one with its offices and services prefetched."""
    return seo.jsonld_script(seo.person_node(clinician, context.get("clinic")))


@register.simple_tag(takes_context=True)
def service_jsonld(context, service):
    """A service page: pass one with its offices prefetched."""
    return seo.jsonld_script(seo.service_node(service, context.get("clinic")))
