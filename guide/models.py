"""The staff guide: "How do I ...?" topics, read in admin, kept by staff like any content.

Its own app because a topic's body is the articles' editor field (``pages``), which
``clinic_site`` may not import (tests/test_app_boundaries.py).
"""

from django.db import models
from django.db.models import Q

from pages.models import RichTextField


class TopicQuerySet(models.QuerySet):
    def for_user(self, user):
        """What ``user`` reads in the guide: everyone's topics and their own group's."""
        if user.is_superuser:
            return self.all()
        groups = set(user.groups.values_list("name", flat=True))
        audiences = [
            audience for audience, names in Topic.AUDIENCE_GROUPS.items() if groups & set(names)
        ]
        return self.filter(Q(audience=Topic.Audience.EVERYONE) | Q(audience__in=audiences))


class Topic(models.Model):
    class Audience(models.TextChoices):
        EVERYONE = "everyone", "Everyone"
        FRONT_DESK = "front_desk", "Front desk"
        CONTENT_EDITORS = "content_editors", "Content editors"

    # Who reads a topic meant for one role: these staff groups (a superuser: all). Managers
    # read requests and the insight dashboard, as the front desk does.
    AUDIENCE_GROUPS = {
        Audience.FRONT_DESK: ("Front desk", "Managers"),
        Audience.CONTENT_EDITORS: ("Content editors",),
    }

    title = models.CharField(
        max_length=150,
        help_text="The question as staff would ask it, e.g. 'How do I add a holiday?'.",
    )
    body = RichTextField(
        help_text="The steps, in order, as a numbered list. Name every button, link and box "
        "exactly as the admin shows it, in quotes.",
    )
    audience = models.CharField(
        "who it is for",
        max_length=20,
        choices=Audience.choices,
        default=Audience.EVERYONE,
        help_text="Front desk (with Managers) or Content editors: only those groups (and "
        "superusers) see the topic in the staff guide. Everyone: all staff.",
    )
    order = models.PositiveSmallIntegerField(
        default=100, help_text="The guide lists topics from the lowest number up."
    )
    updated_at = models.DateTimeField("last changed", auto_now=True)

    objects = TopicQuerySet.as_manager()

    class Meta:
        ordering = ["order", "title"]
        verbose_name = "staff guide topic"
        verbose_name_plural = "staff guide topics"

    def __str__(self):
        return self.title
