from clinic_site.sitemaps import NamedPagesSitemap


class ContactPagesSitemap(NamedPagesSitemap):
    url_names = ["contact:request", "contact:privacy"]


SITEMAPS = {"contact": ContactPagesSitemap}
