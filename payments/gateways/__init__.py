from .base import (
    InvalidNotification,
    Notification,
    PaymentGateway,
    RefundResult,
    ReturnInfo,
    UnknownGateway,
    get_gateway,
)

__all__ = [
    "InvalidNotification",
    "Notification",
    "PaymentGateway",
    "RefundResult",
    "ReturnInfo",
    "UnknownGateway",
    "get_gateway",
]
