"""imagekit's ``generateimages``: write every resized copy that is missing.

imagekit is not an installed app (pages/picture_files.py imports it only to write files),
so pages offers its command, with the articles' and offices' pictures registered first.
"""

from imagekit.management.commands import generateimages

from pages.models import PICTURE_MODELS
from pages.picture_files import register_renditions


class Command(generateimages.Command):
    def handle(self, *args, **options):
        register_renditions(*PICTURE_MODELS)
        super().handle(*args, **options)
