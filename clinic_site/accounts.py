"""Staff accounts: a superuser adds a person in one form and they choose their own password
from an emailed link; "Forgotten your password?" by email, at most a few an hour.

Both links are Django's password-reset tokens (PasswordResetConfirmView): they work once,
for PASSWORD_RESET_TIMEOUT, and no password is ever in a mail. A person who sets one is
logged in (which also clears django-axes' failed attempts for them from that address).
Staff sessions end after STAFF_IDLE_TIMEOUT_MINUTES without a request (the middleware).
"""

import logging
import time

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse, reverse_lazy
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .client_address import client_ip_address
from .models import ClinicSettings

logger = logging.getLogger(__name__)
User = get_user_model()

# The role a person is given, as the staff group of that name (made by clinic_site 0002 and
# contact 0008).
ROLES = {
    "front_desk": ("Front desk", "Front desk: consultation requests"),
    "content_editor": (
        "Content editors",
        "Content editor: the website's articles, services, team, pages, offices, hours and offers",
    ),
    "manager": (
        "Managers",
        "Manager: the insight dashboard (which pages bring patients in) and reading requests",
    ),
}
# Reset requests an hour: per address asked for, and per client (its IP address).
RESET_LIMITS = {"address": 3, "client": 10}
RESET_LIMITED = {"address": "for one email address", "client": "from one client"}
RESET_WINDOW_SECONDS = 3600


def link_lifetime() -> str:
    """How long an emailed link works, in words ("3 days", "1 hour")."""
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    if hours % 24 == 0:
        days = hours // 24
        return f"{days} day{'s' * (days != 1)}"
    return f"{hours} hour{'s' * (hours != 1)}"


def mail_context() -> dict:
    """What both mails say besides the link: whose site, where to log in, for how long."""
    return {
        "clinic": ClinicSettings.load(),
        "admin_url": settings.SITE_URL + reverse("admin:index"),
        "link_lifetime": link_lifetime(),
    }


def set_password_link(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    return settings.SITE_URL + path


def send_set_password_email(user) -> bool:
    """Email ``user`` a link to choose their password; False (and one log line) if the mail
    server refused it."""
    context = {
        **mail_context(),
        "user": user,
        "roles": sorted(user.groups.values_list("name", flat=True)),
        "link": set_password_link(user),
    }
    subject = render_to_string("registration/set_password_subject.txt", context)
    body = render_to_string("registration/set_password_email.txt", context)
    try:
        send_mail("".join(subject.splitlines()), body, None, [user.email])
    except Exception as exc:  # any mail failure: the account stays, and staff can resend
        logger.warning("Set-password email to user #%s not sent (%s)", user.pk, type(exc).__name__)
        return False
    return True


class NewStaffForm(forms.Form):
    required_css_class = "required"  # the admin's bold labels for what must be filled in

    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    email = forms.EmailField(
        label="Email address",
        help_text="Their own work email. The link to choose a password goes there, and it is "
        "also their username for logging in.",
    )
    role = forms.ChoiceField(
        label="Role",
        choices=[(key, label) for key, (_group, label) in ROLES.items()],
        widget=forms.RadioSelect(attrs={"class": "radiolist"}),  # as the admin lays radios out
        help_text="What they will see and change in the admin.",
    )

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
            raise ValidationError(
                "There is already an account with this email address. To let its owner "
                "choose a new password, tick them in the list of users and use the action "
                "'Email the selected people a link to choose a new password'."
            )
        return email

    def clean_role(self):
        group_name = ROLES[self.cleaned_data["role"]][0]
        if not Group.objects.filter(name=group_name).exists():
            raise ValidationError(
                f"The group '{group_name}' no longer exists. Add a group with exactly that "
                "name under Groups, then try again."
            )
        return self.cleaned_data["role"]

    @transaction.atomic
    def save(self):
        data = self.cleaned_data
        user = User(
            username=data["email"],
            email=data["email"],
            first_name=data["first_name"].strip(),
            last_name=data["last_name"].strip(),
            is_staff=True,
        )
        user.set_unusable_password()  # until they choose one from the emailed link
        user.save()
        user.groups.add(Group.objects.get(name=ROLES[data["role"]][0]))
        return user


def new_staff_view(model_admin, request):
    """The users admin's "Add a staff member" page (clinic_site/admin.py)."""
    if not request.user.is_superuser:
        raise PermissionDenied
    form = NewStaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        model_admin.log_addition(request, user, [{"added": {}}])
        name = user.get_full_name()
        if send_set_password_email(user):
            messages.success(
                request,
                f"{name} can now be let in: we have emailed {user.email} a link to choose a "
                f"password (it works once, for {link_lifetime()}). Their username is "
                f"{user.username}.",
            )
        else:
            messages.error(
                request,
                f"The account for {name} is made, but the email to {user.email} could not be "
                "sent. Check the address, then use the action 'Email the selected people a "
                "link to choose a new password' in the list of users.",
            )
        return redirect("admin:auth_user_change", user.pk)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Add a staff member",
        "subtitle": None,
        "opts": model_admin.opts,
        "form": form,
        "link_lifetime": link_lifetime(),
    }
    return TemplateResponse(request, "admin/auth/user/new_staff.html", context)


# --------------------------------------------------------------------- forgotten passwords


def _refusal(kind: str, value: str) -> str:
    """Counts one more reset request for this address or client: why no email may go out
    ('' when it may). A limit the cache cannot count (Redis down) sends nothing."""
    digest = salted_hmac("clinic_site.accounts.reset", value).hexdigest()[:32]
    key = f"password-reset:{kind}:{digest}"
    cache.add(key, 0, RESET_WINDOW_SECONDS)  # the window starts at the first request
    try:
        count = cache.incr(key)
    except ValueError:
        return "the cache could not count the requests"
    if count > RESET_LIMITS[kind]:
        return f"over {RESET_LIMITS[kind]} requests an hour {RESET_LIMITED[kind]}"
    return ""


def reset_refused(request, email: str) -> str:
    """Why no reset email may go out for this request ('' when it may); the address is
    counted only for a client still within its own limit."""
    return _refusal("client", client_ip_address(request) or "unknown") or _refusal(
        "address", email.strip().lower()
    )


class StaffPasswordResetForm(PasswordResetForm):
    def get_users(self, email):
        # Only staff have accounts here; one without a password yet is sent a new invitation
        # by a superuser (the users list's action), as Django's form leaves it out.
        return (user for user in super().get_users(email) if user.is_staff)


class AdminContextMixin:
    """The admin's header and title on Django's password pages, as on its login page."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return {
            **admin.site.each_context(self.request),
            "is_nav_sidebar_enabled": False,  # as on the login page: nothing to list yet
            "link_lifetime": link_lifetime(),
            **context,
        }


class PasswordResetView(AdminContextMixin, auth_views.PasswordResetView):
    """Django's "Forgotten your password?" page, with the same answer whatever happened:
    the address has an account or not, or the request was over its limit."""

    form_class = StaffPasswordResetForm
    subject_template_name = "registration/password_reset_subject.txt"
    email_template_name = "registration/password_reset_email.txt"

    def form_valid(self, form):
        refused = reset_refused(self.request, form.cleaned_data["email"])
        if refused:
            # Never the address: which one was asked for is nobody's business in a log.
            logger.warning("Password reset email not sent: %s", refused)
            return HttpResponseRedirect(self.get_success_url())
        # The link starts with SITE_URL, never with the Host header the request came with.
        self.extra_email_context = {**mail_context(), "site_url": settings.SITE_URL}
        return super().form_valid(form)


class PasswordResetDoneView(AdminContextMixin, auth_views.PasswordResetDoneView):
    pass


class PasswordResetConfirmView(AdminContextMixin, auth_views.PasswordResetConfirmView):
    """Choosing a password from an emailed link (a reset or a new account's invitation)."""

    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("admin:index")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(
            self.request,
            "Your password is saved and you are logged in. Next time, log in with your "
            f"username ({form.user.get_username()}) and this password.",
        )
        return response


# --------------------------------------------------------------------------- sessions

# A session is saved (its idle time restarted) at most this often: not on every request.
SESSION_REFRESH_SECONDS = 60
REFRESHED_AT = "idle_refreshed_at"


class StaffSessionMiddleware:
    """Restarts a logged-in person's idle time (SESSION_COOKIE_AGE) as they work in admin.

    Only theirs: a request without a session cookie is never given one (public pages stay
    cacheable), a stale or made-up cookie never makes a session, and a page that did not
    read the session (a public one) does not read it for this either.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = request.session
        if session.accessed and session.session_key and SESSION_KEY in session:
            now = int(time.time())
            if now - session.get(REFRESHED_AT, 0) >= SESSION_REFRESH_SECONDS:
                session[REFRESHED_AT] = now  # saved, with a new expiry, on the way out
        return response
