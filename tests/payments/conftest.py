from .helpers import deliveries  # noqa: F401  (fixture)
