"""Admin form parts for content: times written as people write them, and one holiday for
several offices at once (the office list's action)."""

import datetime
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from .models import Closure, Office

TIME_HELP = "Write a time like 9am, 3:30 PM or 15:00."
PAST_DAY = "This day is already past. Choose today or a later day."
# "3pm", "3 pm", "3:00 PM", "3:30p.m.", "15:00", "9", "08:00:00" (what older forms posted).
TIME_TEXT = re.compile(
    r"^(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2})(?::(?P<second>\d{2}))?)?"
    r"(?:\s*(?P<half>[ap])\.?\s*m?\.?)?$",
    re.IGNORECASE,
)
TIME_WORDS = {"noon": datetime.time(12), "midday": datetime.time(12), "midnight": datetime.time(0)}


def parse_time(text: str) -> datetime.time | None:
    """The time ``text`` means, or None. Without AM/PM the hour is on the 24-hour clock."""
    text = " ".join(text.split()).lower()  # also the narrow no-break space some phones type
    if text in TIME_WORDS:
        return TIME_WORDS[text]
    match = TIME_TEXT.match(text)
    if not match:
        return None
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if minute > 59 or int(match["second"] or 0) > 59:
        return None
    if match["half"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match["half"].lower() == "p" else 0)
    elif hour > 23:
        return None
    return datetime.time(hour, minute)


def format_time(value: datetime.time) -> str:
    """``time(15, 0)`` -> ``"3:00 PM"``: how the clinic writes a time."""
    return f"{value.hour % 12 or 12}:{value.minute:02d} {'AM' if value.hour < 12 else 'PM'}"


class ClockTimeInput(forms.TextInput):
    """A plain text box (no clock pop-up, no "Now" link) that shows ``3:00 PM``."""

    def __init__(self, attrs=None):
        super().__init__(
            {"size": 9, "autocomplete": "off", "placeholder": "e.g. 9am", **(attrs or {})}
        )

    def format_value(self, value):
        if isinstance(value, datetime.time):
            return format_time(value)
        return super().format_value(value)


class ClockTimeField(forms.Field):
    """A time typed as people write it: 3pm, 3:00 PM, 12pm (noon), 12am (midnight), 15:00."""

    widget = ClockTimeInput
    default_error_messages = {"invalid": TIME_HELP}

    def to_python(self, value):
        if isinstance(value, datetime.time):
            return value
        if value in self.empty_values or not str(value).strip():
            return None
        parsed = parse_time(str(value))
        if parsed is None:
            raise ValidationError(
                f"“{str(value).strip()}” is not a time we can read. {TIME_HELP}", code="invalid"
            )
        return parsed


class ClosureInlineForm(forms.ModelForm):
    """An office's closure: a new one in the past would vanish from the form at once."""

    class Meta:
        model = Closure
        fields = ["date", "reason", "closes_at"]

    def clean_date(self):
        date = self.cleaned_data["date"]
        if date and self.instance._state.adding and date < timezone.localdate():
            raise ValidationError(PAST_DAY)
        return date


class ClosureForOfficesForm(forms.Form):
    """One holiday or half day for several offices at once."""

    WHOLE_DAY, EARLY = "whole_day", "early"

    offices = forms.ModelMultipleChoiceField(
        queryset=Office.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one office."},
        help_text="Every office that is closed that day.",
    )
    date = forms.DateField(
        help_text="The day, e.g. 2027-11-25.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(
        max_length=120, help_text="Shown to patients, e.g. 'Thanksgiving' or 'Christmas Eve'."
    )
    kind = forms.ChoiceField(
        label="Closed",
        choices=[(WHOLE_DAY, "All day"), (EARLY, "From a time: the offices close early")],
        initial=WHOLE_DAY,
        widget=forms.RadioSelect,
    )
    closes_at = ClockTimeField(
        label="Closes early at",
        required=False,
        help_text="Only for closing early, e.g. 1pm. The offices open as usual that morning.",
    )

    def clean_date(self):
        date = self.cleaned_data["date"]
        if date < timezone.localdate():
            raise ValidationError(PAST_DAY)
        return date

    def clean(self):
        data = super().clean()
        if data.get("kind") == self.EARLY and not data.get("closes_at"):
            self.add_error("closes_at", "Say when the offices close that day, e.g. 1pm.")
        if data.get("kind") == self.WHOLE_DAY:
            data["closes_at"] = None  # a time typed before choosing "All day" means nothing
        return data
