"""The sections of the public site that the menu and footer can link to."""

SECTIONS = {
    "home": ("Home", "pages:home"),
    "services": ("Services", "pages:service_list"),
    "team": ("Our team", "pages:team"),
    "articles": ("Articles", "pages:article_list"),
    "offices": ("Offices & hours", "pages:office_list"),
    "search": ("Search", "pages:search"),
}
