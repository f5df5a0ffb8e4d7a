"""Background work of the marketplace import (ORD-12). Thin: the rules are in stores.imports.

`run_store_import` checks and imports one uploaded file. It claims the import first: a
duplicate or redelivered task finds it finished and does nothing, and one whose worker was lost
starts over and finds the orders already placed. Hence `acks_late` with `reject_on_worker_lost`.

`tidy_store_imports` (for beat, every few minutes) hands over again the imports whose enqueue
at commit was lost or whose worker disappeared.
"""

from celery import shared_task

from . import imports


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # 20,000 rows of single-line orders take minutes on a small machine.
    soft_time_limit=1800,
    time_limit=1860,
)
def run_store_import(import_id: int, language: str = "") -> bool:
    return imports.run_import(import_id, language=language)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, time_limit=120)
def tidy_store_imports() -> int:
    return imports.tidy_imports()
