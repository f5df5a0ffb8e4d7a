from django.urls import include, path

app_name = "floor"

urlpatterns = [
    path("documents/", include("fulfillment.urls_documents")),
]
