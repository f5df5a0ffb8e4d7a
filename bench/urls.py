from django.http import HttpResponse
from django.urls import include, path


def hello(request):
    """The floor: a Django view that does nothing, through the same server and middleware."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/hello/", hello), path("", include("config.urls"))]
