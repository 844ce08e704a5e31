"""Status codes (one-to-one with the C API and TransferErrorCode) and the exception that carries them."""
from __future__ import annotations

import enum

from ._native import lib


class Status(enum.IntEnum):
    """pdrdma_status: positive values are TransferErrorCode, negative ones the C boundary's own."""
    OK = 0
    PROTOCOL = 1
    VERSION_MISMATCH = 2
    LAYOUT_MISMATCH = 3
    UNKNOWN_REGION = 4
    OUT_OF_BOUNDS = 5
    ACCESS_DENIED = 6
    PEER_LOST = 7
    TIMEOUT = 8
    UNSUPPORTED = 9
    CHECKSUM_MISMATCH = 10
    UNAUTHENTICATED = 11
    POOL_FULL = 12
    DEVICE_UNAVAILABLE = 13
    OVERLOADED = 14
    PENDING = -1
    INVALID_ARGUMENT = -2
    BUFFER_TOO_SMALL = -3
    INTERNAL = -4


class PdrdmaError(Exception):
    """A failed call: ``code`` is the Status, the message is the library's last-error text."""

    def __init__(self, code: Status | int, message: str) -> None:
        try:
            self.code = Status(code)
        except ValueError:
            self.code = code  # type: ignore[assignment]
        super().__init__(f"{getattr(self.code, 'name', self.code)}: {message}")
        self.detail = message


def check(status: int) -> int:
    """Raises PdrdmaError for any failing status (PENDING is not one); returns the status."""
    if status == 0 or status == Status.PENDING:
        return status
    raw = lib().pdrdma_last_error()
    raise PdrdmaError(status, raw.decode("utf-8", "replace") if raw else "")
