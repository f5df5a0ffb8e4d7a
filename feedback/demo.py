"""Demo ratings (RPT-5) for the demo shop: `seed_demo_feedback()` rates about three in five of
the completed orders that have a customer and no rating yet, mostly well, a day or so after
completion, the same way on every run (seeded by the order number). Safe to run again: orders
already rated are left alone. Meant for the demo's few thousand orders, not for seed_bulk."""

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from orders.models import Order, OrderState

from .models import OrderFeedback

RATING_WEIGHTS = {5: 50, 4: 25, 3: 12, 2: 8, 1: 5}
COMMENTS = {
    5: ["物流很快，包装完好，非常满意！", "质量很好，和描述一致，会回购。", ""],
    4: ["东西不错，就是快递慢了一点。", "整体满意。", ""],
    3: ["一般，凑合能用。", "包装有点简陋。", ""],
    2: ["发货太慢了，等了很久。", "颜色和图片有差别。"],
    1: ["收到时外包装破损，很失望。", "质量太差，已申请退货。"],
}
SHARE_RATED = 0.6


def seed_demo_feedback(
    *, orders: QuerySet[Order] | None = None, now: datetime | None = None
) -> int:
    """Rate completed orders (of `orders`, default all) that have none; returns how many."""
    now = now or timezone.now()
    candidates = (orders if orders is not None else Order.objects.all()).filter(
        state=OrderState.COMPLETED,
        customer__isnull=False,
        completed_at__isnull=False,
        feedback__isnull=True,
    )
    rows = []
    for order_id, number, customer_id, completed_at in candidates.values_list(
        "pk", "number", "customer_id", "completed_at"
    ).iterator(chunk_size=2000):
        rng = random.Random(f"feedback:{number}")
        if rng.random() >= SHARE_RATED:
            continue
        rating = rng.choices(list(RATING_WEIGHTS), weights=list(RATING_WEIGHTS.values()))[0]
        left_at = min(completed_at + timedelta(minutes=rng.randint(30, 72 * 60)), now)
        feedback = OrderFeedback(
            order_id=order_id,
            customer_id=customer_id,
            rating=rating,
            comment=rng.choice(COMMENTS[rating]),
        )
        rows.append((feedback, left_at))
    with transaction.atomic():
        created = OrderFeedback.objects.bulk_create([feedback for feedback, _at in rows])
        # `created_at` is set on insert; date each rating after its order's completion.
        for feedback, (_same, left_at) in zip(created, rows, strict=True):
            feedback.created_at = left_at
        OrderFeedback.objects.bulk_update(created, ["created_at"], batch_size=500)
    return len(created)
