"""The reasons staff pick from when they erase consultation requests (delete pages)."""

from django import template

from ..models import ErasureRecord

register = template.Library()


@register.simple_tag
def erasure_reasons():
    return ErasureRecord.Reason.choices
