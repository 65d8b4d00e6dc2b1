import re
import unicodedata
from urllib.parse import urlsplit

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout, Submit
from django import forms
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.html import format_html

from clinic_site.models import ClinicSettings
from pages.models import Office, Service

from .mail import public_address_problem
from .models import ConsultationRequest, MailStatus, PrivacyNotice
from .spam import TOKEN_EXPIRED, check_form_token, sign_form_start

EXPIRED_MESSAGE = (
    "This form page had been open too long for us to accept it, so nothing has been sent "
    "yet. We have kept everything you typed: please check it and send it again."
)
HONEYPOT_REASON = "a field people cannot see was filled in"

PHONE_HELP = "US numbers like (860) 555-0100, or international ones starting with +."
CONTACT_METHOD_HELP = (
    "If you leave this empty, we will call you when you gave a phone number, and email you "
    "when you gave only an email address."
)


def normalise_phone(value: str) -> str:
    """Format a phone number for display; raise ValidationError when it cannot be one."""
    value = value.strip()
    if not value:
        return ""
    if re.search(r"[^\d\s().+\-]", value):
        raise forms.ValidationError(
            "Use only digits, spaces and ( ) - + in the phone number.", code="phone_chars"
        )
    digits = re.sub(r"\D", "", value)
    if value.startswith("+") and not value.startswith("+1"):
        if 8 <= len(digits) <= 15:
            return "+" + digits
        raise forms.ValidationError("That international number looks incomplete.", code="phone")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or digits[0] in "01":
        raise forms.ValidationError(
            "Please give a 10-digit phone number with the area code, e.g. (860) 555-0100.",
            code="phone",
        )
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def derived_contact_method(phone: str) -> str:
    """The method for a patient who chose none: a call if they gave a number, else email."""
    Method = ConsultationRequest.ContactMethod
    return Method.PHONE if phone else Method.EMAIL


def plain_text(value: str, multiline: bool = False) -> str:
    """NFC, without control or format characters (a right-to-left override would spoof
    what staff read in admin and the CSV); line breaks stay only where ``multiline``."""
    value = unicodedata.normalize("NFC", value)
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    kept = []
    for char in value:
        if char == "\n" and multiline:
            kept.append(char)
        elif char.isspace():
            kept.append(" ")  # tabs, other line breaks: a space, not two words run together
        elif unicodedata.category(char) not in ("Cc", "Cf"):
            kept.append(char)
    return "".join(kept)


class PlainTextField(forms.CharField):
    multiline = False

    def to_python(self, value):
        if isinstance(value, str):
            value = plain_text(value, self.multiline)
        return super().to_python(value)


class PlainMultilineField(PlainTextField):
    multiline = True


class PlainEmailField(forms.EmailField):
    def to_python(self, value):
        if isinstance(value, str):
            value = plain_text(value)
        return super().to_python(value)


class SourcePathField(forms.CharField):
    """The path of the page of this site the form was sent from, or '' (never refused)."""

    def clean(self, value):
        value = (value or "").strip()
        if not value.startswith("/") or value.startswith("//") or len(value) > 200:
            return ""
        if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
            return ""
        path = urlsplit(value).path
        try:
            resolve(path)
        except Resolver404:
            return ""
        return path


class NoticeVersionField(forms.CharField):
    """The privacy notice version the form showed, or None (never refused: it is hidden)."""

    def clean(self, value):
        value = value.strip() if isinstance(value, str) else ""
        return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


class PlainParagraph(HTML):
    """A paragraph of staff-written text: escaped, never read as template code."""

    def __init__(self, text, css_class=""):
        super().__init__(text)
        self.css_class = css_class

    def render(self, form, context, **kwargs):
        return format_html('<p class="{}">{}</p>', self.css_class, self.html)


def current_notice_version():
    """The privacy notice version a form shows; read only when an empty form is drawn."""
    notice = PrivacyNotice.current()
    return notice.version if notice else ""


class ConsultationRequestForm(forms.ModelForm):
    service = forms.ModelChoiceField(
        queryset=Service.objects.none(),
        required=False,
        empty_label="Not sure yet",
        label="What are you interested in?",
        error_messages={
            "invalid_choice": "That service is no longer on our website. Please choose "
            "another one, or 'Not sure yet'.",
        },
    )
    office = forms.ModelChoiceField(
        queryset=Office.objects.none(),
        required=False,
        empty_label="No preference",
        label="Preferred office",
    )
    consent = forms.BooleanField(
        required=True,
        error_messages={"required": "Please tick the box so we may contact you."},
    )
    # Honeypot: people never see it; simple bots fill every field they find.
    website = forms.CharField(required=False, label="Leave this field empty")
    started = forms.CharField(required=False, widget=forms.HiddenInput)
    source = SourcePathField(required=False, widget=forms.HiddenInput)
    # The version of the privacy notice this form linked to: the one the patient agrees to.
    privacy_version = NoticeVersionField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = ConsultationRequest
        fields = [
            "name",
            "phone",
            "email",
            "service",
            "office",
            "contact_method",
            "best_time",
            "message",
        ]
        labels = {
            "name": "Your name",
            "contact_method": "How should we contact you?",
            "best_time": "Best time to reach you",
            "message": "What would you like help with? (optional)",
        }
        help_texts = {
            "phone": PHONE_HELP,
            "email": "Give a phone number, an email address, or both.",
            "contact_method": CONTACT_METHOD_HELP,
            "message": "A sentence is enough. Please don't include detailed medical "
            "information; we will talk about that in person.",
        }
        field_classes = {
            "name": PlainTextField,
            "phone": PlainTextField,
            "email": PlainEmailField,
            "message": PlainMultilineField,
        }
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "contact_method": forms.RadioSelect,
            "best_time": forms.RadioSelect,
            "message": forms.Textarea(attrs={"rows": 3, "maxlength": 1000}),
        }

    def __init__(self, *args, office=None, service=None, source="", offices=None, **kwargs):
        initial = kwargs.setdefault("initial", {})
        if office is not None:
            initial.setdefault("office", office.pk)
        if service is not None:
            initial.setdefault("service", service.pk)
        initial.setdefault("source", source)
        initial.setdefault("best_time", ConsultationRequest.BestTime.MORNING)
        super().__init__(*args, **kwargs)
        office_field = self.fields["office"]
        office_field.queryset = Office.objects.active()  # what a POST is checked against
        if offices is not None:  # the same rows, loaded already for the page's footer
            office_field.choices = [("", office_field.empty_label)] + [
                (choice.pk, choice.name) for choice in offices
            ]
        # One query, when the select is drawn or a POST is checked: published services only.
        self.fields["service"].queryset = Service.objects.published().only("id", "title")
        # No method is preselected (a preselected "Phone call" contradicted patients who gave
        # only an email): left empty, clean() derives it. Radios need no "---------" choice.
        method = self.fields["contact_method"]
        method.choices = ConsultationRequest.ContactMethod.choices
        method.required = False
        self.fields["best_time"].choices = ConsultationRequest.BestTime.choices
        self.fields["started"].initial = sign_form_start()
        self.fields["privacy_version"].initial = current_notice_version
        self.is_spam = False
        self.flag_reason = ""
        privacy_url = reverse("contact:privacy")
        self.fields["consent"].label = format_html(
            "I agree that the clinic may contact me about my request, as described in the "
            '<a href="{}">privacy notice</a>.',
            privacy_url,
        )
        self.fields["website"].widget.attrs.update(
            {"tabindex": "-1", "autocomplete": "off", "aria-hidden": "true"}
        )
        self.helper = FormHelper(self)
        self.helper.form_action = reverse("contact:request")
        self.helper.form_id = "consultation-form"
        self.helper.attrs = {"novalidate": ""}
        # No per-visitor CSRF token: the form sits in cached pages (see contact/csrf.py).
        self.helper.disable_csrf = True
        # A Div, not a Fieldset: a fieldset needs a legend (WCAG H71), and the radio
        # groups inside already have their own.
        self.helper.layout = Layout(
            Div(
                "name",
                "phone",
                "email",
                "service",
                "office",
                Field("contact_method"),
                Field("best_time"),
                "message",
                "consent",
            ),
            Div("website", css_class="hp-field", aria_hidden="true"),
            "started",
            "source",
            "privacy_version",
            PlainParagraph(
                ClinicSettings.load().reply_promise, css_class="small text-body-secondary"
            ),
            Submit("submit", "Ask for my free consultation", css_class="btn-lg"),
        )

    def clean_phone(self):
        return normalise_phone(self.cleaned_data.get("phone", ""))

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not any(unicodedata.category(char).startswith("L") for char in name):
            raise forms.ValidationError(
                "Please write your name in letters, so we know whom to ask for.", code="name"
            )
        return name

    def clean_email(self):
        email = self.cleaned_data.get("email", "")
        if email and public_address_problem(email):
            raise forms.ValidationError(
                "We can only write to an ordinary email address, like name@gmail.com. Please "
                "check it, or leave it empty and give a phone number.",
                code="email_not_public",
            )
        return email

    def clean(self):
        cleaned = super().clean()
        phone, email = cleaned.get("phone"), cleaned.get("email")
        method = cleaned.get("contact_method")
        if not self.errors.get("phone") and not self.errors.get("email"):
            if not phone and not email:
                # On the phone field, so the model's matching constraint is not repeated.
                self.add_error(
                    "phone",
                    forms.ValidationError(
                        "Please give a phone number or an email address so we can reach you.",
                        code="no_contact",
                    ),
                )
            elif method in ("phone", "text") and not phone:
                self.add_error("phone", "You asked us to call or text: please add your number.")
            elif method == "email" and not email:
                self.add_error("email", "You asked us to email you: please add your address.")
            elif not method:
                cleaned["contact_method"] = derived_contact_method(phone)
        token, self.flag_reason = check_form_token(cleaned.get("started", ""))
        if token == TOKEN_EXPIRED:
            # Sent back with a fresh token: the next press of the button goes through.
            self.data = self.data.copy()
            self.data[self.add_prefix("started")] = sign_form_start()
            self.add_error(None, forms.ValidationError(EXPIRED_MESSAGE, code="expired"))
        # The one check that files a request as spam without a person looking at it.
        self.is_spam = bool(cleaned.get("website"))
        return cleaned

    def agreed_notice(self):
        """The version the form showed; the newest if that one is gone (or the field was)."""
        version = self.cleaned_data.get("privacy_version")
        notice = PrivacyNotice.objects.filter(version=version).first() if version else None
        return notice or PrivacyNotice.current()

    def save(self, commit=True):
        consultation = super().save(commit=False)
        now = timezone.now()
        consultation.consent_at = now
        consultation.received_at = now
        consultation.next_attempt_at = now
        notice = self.agreed_notice()
        consultation.privacy_notice = notice
        consultation.privacy_notice_version = notice.version if notice else None
        consultation.source_path = self.cleaned_data.get("source", "")
        if not consultation.email:
            consultation.confirmation_status = MailStatus.NOT_SENT
            consultation.confirmation_error = "No email address was given."
        if self.is_spam:
            consultation.status = ConsultationRequest.Status.SPAM
            consultation.flag_reason = HONEYPOT_REASON
            consultation.notification_status = MailStatus.NOT_SENT
            consultation.confirmation_status = MailStatus.NOT_SENT
        elif self.flag_reason:
            consultation.status = ConsultationRequest.Status.NEEDS_REVIEW
            consultation.flag_reason = self.flag_reason
        if commit:
            consultation.save()
        return consultation
