"""Response headers Django has no setting for, and the admin's rich-text editor under CSP.

Settings (clinic_site/settings.py): ``PERMISSIONS_POLICY`` (feature -> allowed origins; an
empty list switches the feature off) and ``CROSS_ORIGIN_RESOURCE_POLICY``. The CSP itself
comes from django-csp; only the admin form with the prose editor gets a nonce (its import
map) and a style hash (Tiptap's style block): docs/architecture.md, "Security headers".
"""

from csp.constants import NONCE
from django.conf import settings
from js_asset import Media as JsAssetMedia

# SHA-256 of the CSS text Tiptap's Editor.injectCSS() puts in a <style data-tiptap-style>
# element (the template literal starting ".ProseMirror {" in django-prose-editor's
# static/django_prose_editor/editor.js, 0.28). tests/test_security_headers.py recomputes it
# from the installed file, so an upgrade that changes the CSS fails the suite.
PROSE_EDITOR_STYLE_HASH = "'sha256-PlumsSlvJ7vvWzjqibGAYKq92O3y/4JTxWWsWJvyUYA='"


def permissions_policy_header(policy: dict[str, list[str]]) -> str:
    """``{"camera": [], "fullscreen": ["self"]}`` -> ``camera=(), fullscreen=(self)``."""
    return ", ".join(f"{feature}=({' '.join(allowed)})" for feature, allowed in policy.items())


class SecurityHeadersMiddleware:
    """Adds Permissions-Policy and Cross-Origin-Resource-Policy to every response, and lets
    the prose editor's inline import map and style block run under the CSP (see above).

    Sits inside django-csp's CSPMiddleware (which reads ``response._csp_update``) and
    outside the page cache (whose hits then get the same headers).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.permissions_policy = permissions_policy_header(settings.PERMISSIONS_POLICY)
        self.resource_policy = settings.CROSS_ORIGIN_RESOURCE_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.permissions_policy:
            response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        if self.resource_policy:
            response.headers.setdefault("Cross-Origin-Resource-Policy", self.resource_policy)
        return response

    def process_template_response(self, request, response):
        context = response.context_data
        media = context.get("media") if isinstance(context, dict) else None
        if isinstance(media, JsAssetMedia) and media._importmap is not None:
            # Every tag of the form's media (the import map included) carries the nonce.
            context["media"] = media.with_nonce(request.csp_nonce)
            update = dict(getattr(response, "_csp_update", None) or {})
            update["script-src"] = [*update.get("script-src", []), NONCE]
            update["style-src"] = [*update.get("style-src", []), PROSE_EDITOR_STYLE_HASH]
            response._csp_update = update
        return response
