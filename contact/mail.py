"""Which addresses the clinic writes to, and Django's SMTP backend, except that a
recipient the server refuses is not silence."""

import ipaddress
import smtplib

from django.core.mail.backends.smtp import EmailBackend


class RecipientsPartlyRefused(smtplib.SMTPException):
    """The server took the message for some recipients and refused the others."""

    def __init__(self, refused: dict):
        self.refused = refused
        super().__init__(f"the mail server refused {', '.join(sorted(refused))}")


class SMTPBackend(EmailBackend):
    def _send(self, email_message):
        # smtplib reports refused recipients in sendmail()'s return value, which Django's
        # backend drops; capture it around the parent's call.
        refused = {}
        real_sendmail = self.connection.sendmail

        def sendmail(*args, **kwargs):
            result = real_sendmail(*args, **kwargs)
            refused.update(result or {})
            return result

        self.connection.sendmail = sendmail
        try:
            sent = super()._send(email_message)
        finally:
            del self.connection.sendmail
        if refused and not self.fail_silently:
            raise RecipientsPartlyRefused(refused)
        return sent


# Domains that never reach a person on the public internet (RFC 2606, 6761, 6762).
PRIVATE_SUFFIXES = ("localhost", "local", "invalid", "test")


def public_address_problem(address: str) -> str:
    """'' for an ordinary public address, else why the clinic will not write to it.

    Django's EmailValidator accepts IP literals (``pat@[127.0.0.1]``), quoted local parts
    and ``localhost``: anyone could then make the clinic mail a machine, not a person.
    """
    local, _, domain = address.rpartition("@")
    domain = domain.lower().rstrip(".")
    if not local or not domain:
        return "not an email address"
    if local.startswith('"') or domain.startswith("["):
        return "quoted names and IP addresses are not ordinary public addresses"
    labels = domain.split(".")
    if len(labels) < 2:
        return "the domain has no dot"
    if labels[-1] in PRIVATE_SUFFIXES:
        return f"{labels[-1]} addresses are not public"
    try:
        ipaddress.ip_address(domain)
    except ValueError:
        return ""
    return "IP addresses are not ordinary public addresses"


def is_permanent_refusal(exc: Exception) -> bool:
    """The server refused every recipient with a 5xx: trying again cannot help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        return all(500 <= code < 600 for code, _ in exc.recipients.values())
    return False
