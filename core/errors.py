"""Domain errors: raised by services when an action cannot be done, with a message for people.

Views catch `DomainError` and show `message`; nothing half-done is left behind because every
service runs in one transaction.
"""


class DomainError(Exception):
    """An action the rules refuse. `message` is translated and fit to show to the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)
