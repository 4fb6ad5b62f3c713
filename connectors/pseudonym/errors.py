"""The kit's one error type: French and English text, no gateway dependency."""

from __future__ import annotations


class PseudonymError(Exception):
    """A problem a person must fix (key file, input file, columns), told in French and English."""

    def __init__(self, message_fr: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_fr = message_fr
        self.message_en = message_en

    def __str__(self) -> str:
        return f"{self.message_fr} / {self.message_en}"
