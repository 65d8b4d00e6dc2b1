"""Content history in admin: who changed what and when, two versions compared, restore.

Every content admin inherits ``HistoryAdmin`` (django-reversion, with django-reversion-
compare's comparison): each save in admin records a version of the row and of its inlines
(an office's hours and closures) with the user and the time. Restoring is the library's
"revert" followed by an ordinary admin save, so the page cache is cleared as by any edit.
"""

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from reversion import add_to_revision, create_revision, set_comment
from reversion.models import Version
from reversion_compare.admin import CompareVersionAdmin

from .security import SecurityHeadersMiddleware

# Shown in the history of a row made outside admin (demo content, a data import).
BEFORE_FIRST_EDIT = "As it was before its first change in admin (it was created outside admin)."


class HistoryAdmin(CompareVersionAdmin):
    """The admin base class of every model staff edit as content.

    Adds to the library: the comparison asks for the same permission as the history (the
    library only asks for staff); a row with no history gets one, its state before the
    first change or deletion in admin; a restored version never points at a picture file
    django-cleanup has deleted since (it keeps the current picture, or none); and the
    restore page gets the rich-text editor's CSP nonce, as the change page does.
    """

    history_latest_first = True

    def compare_view(self, request, object_id, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return super().compare_view(request, object_id, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "POST":
            self._record_state_before_first_edit(request, object_id, self.has_change_permission)
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        if request.method == "POST":
            self._record_state_before_first_edit(request, object_id, self.has_delete_permission)
        return super().delete_view(request, object_id, extra_context)

    def _record_state_before_first_edit(self, request, object_id, allowed):
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not allowed(request, obj):
            return  # the view itself answers 404 or 403
        if Version.objects.get_for_object(obj).exists():
            return
        with create_revision():
            set_comment(BEFORE_FIRST_EDIT)
            add_to_revision(obj)  # with what it follows: an office's hours and closures

    def revision_view(self, request, object_id, version_id, extra_context=None):
        request._history_current = self.model._default_manager.filter(pk=unquote(object_id)).first()
        return super().revision_view(request, object_id, version_id, extra_context)

    def recover_view(self, request, version_id, extra_context=None):
        request._history_current = None
        return super().recover_view(request, version_id, extra_context)

    def render_change_form(self, request, context, *args, **kwargs):
        response = super().render_change_form(request, context, *args, **kwargs)
        if hasattr(request, "_history_current"):
            # The library renders a restore page itself, inside the transaction it undoes:
            # the rich-text editor's script needs its CSP nonce before that, not after.
            nonce = SecurityHeadersMiddleware(get_response=None)
            response = nonce.process_template_response(request, response)
        return response

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and hasattr(request, "_history_current"):
            _keep_existing_files(obj, request._history_current)
        return obj


def _keep_existing_files(restored, current):
    """Point ``restored``'s file fields whose file is gone at ``current``'s file, or none.

    A replaced picture is deleted by django-cleanup, so an older version names a file that
    no longer exists: restoring its name would show patients a broken picture.
    """
    for field in restored._meta.concrete_fields:
        if not isinstance(field, models.FileField):
            continue
        file = getattr(restored, field.attname)
        if not file or file.storage.exists(file.name):
            continue
        # The picture's own fields go with it: its size, and its words for screen readers.
        names = [field.attname, getattr(field, "width_field", None)]
        names += [getattr(field, "height_field", None), f"{field.attname}_alt"]
        for name in filter(None, names):
            if not hasattr(restored, name):
                continue
            if current is not None:
                setattr(restored, name, getattr(current, name))
            else:
                setattr(restored, name, restored._meta.get_field(name).get_default())
