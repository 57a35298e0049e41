"""The classifier seam: what every form classifier reads and what it answers.

The rule classifier (``classifiers.rules``) and the trained model (to come) both implement
:class:`Classifier`; the agent holds one and never knows which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

Kind = Literal[
    "form",
    "attachment/bank_statement",
    "attachment/rental_agreement",
    "attachment/pay_slip",
    "attachment/other",
    "unknown",
]
Language = Literal["fi", "sv", "en", "und"]


@dataclass(frozen=True)
class PageText:
    """OCR text of one page, with the header and footer strips read on their own.

    ``header`` and ``footer`` are the text of the top ~15% and bottom ~10% of the page; they may
    be empty when the OCR stage did not read them separately.
    """

    text: str
    header: str = ""
    footer: str = ""


@dataclass(frozen=True)
class DocumentText:
    """The pages of one document, in order."""

    pages: tuple[PageText, ...]

    @property
    def full_text(self) -> str:
        return "\n\f\n".join(p.text for p in self.pages)


@dataclass(frozen=True)
class Evidence:
    """One reason behind an answer: what was seen, where, and how much it counted."""

    kind: str  # e.g. "header_code", "footer_code", "title", "keyword", "mentioned_code"
    detail: str
    weight: float


@dataclass(frozen=True)
class Classification:
    """A classifier's answer for one document."""

    form_code: str | None  # normalised "TO 1"; None unless kind == "form"
    kind: Kind
    language: Language
    confidence: float  # 0..1
    classified_by: Literal["rule", "model", "clerk"]
    evidence: tuple[Evidence, ...] = field(default=())
    form_variant: str | None = None  # where one code names two documents (EV 256)


class Classifier(Protocol):
    """Anything that turns a document's OCR text into a :class:`Classification`."""

    @property
    def version(self) -> str:
        """Recorded in each bundle's ``classifier_version``, e.g. ``rules/1+forms:ab12cd34``."""
        ...

    def classify(self, document: DocumentText) -> Classification:
        """Answer for one document; ``unknown`` rather than a guess."""
        ...
