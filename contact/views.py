import logging
import re
from http import HTTPStatus

from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import QueryDict, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView, TemplateView

from clinic_site.visits import counted
from pages.cache import public_page
from pages.models import Office, Service

from .csrf import forgery_reason, reject
from .forms import ConsultationRequestForm
from .models import PrivacyNotice
from .spam import rate_limited

logger = logging.getLogger(__name__)

UNREADABLE_MESSAGE = (
    "We could not read what your browser sent, so nothing has been sent yet. Please fill in "
    "the form again, or call us."
)
RATE_LIMIT_MESSAGE = (
    "We have received several requests from your connection in the last few minutes, so "
    "we can't take another one just now. Please try again in about ten minutes, or call us."
)


def _is_slug(value):
    # Anything else (a NUL byte, 5,000 characters) could only be a miss, or an error.
    return bool(value) and len(value) <= 120 and re.fullmatch(r"[-\w]+", value) is not None


def _office_from_slug(slug):
    if not _is_slug(slug):
        return None
    return Office.objects.active().filter(slug=slug).first()


def _service_from_slug(slug):
    """A published service, or None: a hidden or unknown one is not offered, never an error."""
    if not _is_slug(slug):
        return None
    return Service.objects.published().filter(slug=slug).only("id", "title").first()


# Nothing a patient types may reach error reports or logs. Forgery is checked by
# contact.csrf instead of Django's per-visitor token, so the form can sit in cached pages.
@counted  # its views, beside the requests sent, on the insight dashboard
@method_decorator(sensitive_post_parameters(), name="dispatch")
@method_decorator(never_cache, name="dispatch")
@method_decorator(csrf_exempt, name="dispatch")
class ConsultationRequestView(FormView):
    form_class = ConsultationRequestForm
    template_name = "contact/consultation_request_form.html"
    # FormView would treat PUT as POST; anything but reading and sending is a 405.
    http_method_names = ["get", "post", "head", "options"]

    def post(self, request, *args, **kwargs):
        reason = forgery_reason(request)
        if reason:
            return reject(request, reason)
        try:
            request.POST  # noqa: B018 (parsed here, so a body we cannot read is a 400)
        except (SuspiciousOperation, MultiPartParserError, UnreadablePostError) as exc:
            return self.unreadable(exc)
        return super().post(request, *args, **kwargs)

    def unreadable(self, exc):
        """Too large, too many fields, broken multipart: the visitor's error, one log line."""
        logger.warning("Consultation form: a POST could not be read (%s)", type(exc).__name__)
        self.request._post, self.request._files = QueryDict(), MultiValueDict()
        form = self.form_class(office=None, source="")
        context = self.get_context_data(form=form, unreadable_message=UNREADABLE_MESSAGE)
        response = self.render_to_response(context, status=HTTPStatus.BAD_REQUEST)
        response._has_been_logged = True  # Django would log a second "Bad Request" line
        return response

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["office"] = _office_from_slug(self.request.GET.get("office"))
        kwargs["service"] = _service_from_slug(self.request.GET.get("service"))
        kwargs["source"] = self.request.GET.get("from", "") or self.request.path
        return kwargs

    def form_valid(self, form):
        if rate_limited(self.request):
            context = self.get_context_data(form=form, rate_limited=True)
            return self.render_to_response(context, status=HTTPStatus.TOO_MANY_REQUESTS)
        with transaction.atomic():
            consultation = form.save()
        url = reverse("contact:thanks")
        if consultation.office_id:  # the form only accepts active offices
            url += f"?office={consultation.office.slug}"
        return redirect(url)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rate_limit_message"] = RATE_LIMIT_MESSAGE
        return context


@method_decorator(never_cache, name="dispatch")
class ThanksView(TemplateView):
    template_name = "contact/thanks.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["office"] = _office_from_slug(self.request.GET.get("office"))
        return context


@public_page
class PrivacyNoticeView(TemplateView):
    template_name = "contact/privacy_notice.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["notice"] = PrivacyNotice.current()
        return context
