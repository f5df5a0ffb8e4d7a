"""Printable documents of the warehouse floor (FUL-4): pick lists, packing slips, labels.

Mounted at /staff/floor/documents/ in the "floor" namespace (fulfillment/urls.py).
"""

from django.urls import path

from . import views_documents as views

urlpatterns = [
    path("labels/", views.labels, name="labels"),
    path("labels/pdf/", views.labels_pdf, name="labels_pdf"),
    path("labels/<int:parcel_id>/", views.label, name="label"),
    path("labels/<int:parcel_id>/pdf/", views.label_pdf, name="label_pdf"),
    path("pick-lists/<int:wave_id>/", views.pick_list, name="pick_list"),
    path("pick-lists/<int:wave_id>/pdf/", views.pick_list_pdf, name="pick_list_pdf"),
    path("packing-slips/", views.packing_slips, name="packing_slips"),
    path("packing-slips/<int:fulfillment_id>/", views.packing_slip, name="packing_slip"),
    path(
        "packing-slips/<int:fulfillment_id>/pdf/", views.packing_slip_pdf, name="packing_slip_pdf"
    ),
    path("batches/", views.batch, name="batch"),
    path("batches/<int:job_id>/", views.job, name="job"),
    path("batches/<int:job_id>/download/", views.job_download, name="job_download"),
]
