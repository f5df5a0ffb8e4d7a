from django.urls import include, path

app_name = "floor"

urlpatterns = [
    path("documents/", include("fulfillment.urls_documents")),
    path("promotion-day/", include("fulfillment.urls_bulk")),
]
