"""Django's SMTP backend, except that a recipient the server refuses is not silence."""

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
