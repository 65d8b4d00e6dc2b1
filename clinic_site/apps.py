import importlib
from collections.abc import Iterator
from types import ModuleType

from django.apps import AppConfig, apps
from django.utils.module_loading import module_has_submodule


class ClinicSiteConfig(AppConfig):
    name = "clinic_site"
    verbose_name = "Clinic"

    def ready(self):
        from . import checks  # noqa: F401 (registers the deployment checks)


def app_modules(name: str) -> Iterator[ModuleType]:
    """Each app's own ``<app>.<name>`` module (sitemaps, breadcrumbs, demo_content), in
    INSTALLED_APPS order: the site assembles what the apps offer without naming them."""
    for config in apps.get_app_configs():
        if config.name != ClinicSiteConfig.name and module_has_submodule(config.module, name):
            yield importlib.import_module(f"{config.name}.{name}")
