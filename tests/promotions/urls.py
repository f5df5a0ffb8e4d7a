"""The site's URLs with the promotions screens at "staff/promotions/", for the view tests until
(and after) config/urls.py includes them."""

from django.urls import NoReverseMatch, include, path, reverse

from config.urls import urlpatterns as site_urlpatterns


def _included() -> bool:
    try:
        reverse("promotions:list", urlconf="config.urls")
    except NoReverseMatch:
        return False
    return True


urlpatterns = list(site_urlpatterns)
if not _included():
    urlpatterns.insert(0, path("staff/promotions/", include("promotions.urls")))
