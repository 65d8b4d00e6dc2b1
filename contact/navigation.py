"""The consultation form as a section the menu and footer can link to."""

SECTIONS = {
    "consultation": ("Free consultation", "contact:request"),
    "privacy": ("Privacy notice", "contact:privacy"),
}
