"""Synthetic Kela-style pages for tests and benchmarks: forms, attachments, letters, blanks.

Everything is seeded: the same arguments give the same pixels. Identity codes are temporary
test codes (individual number 900-999) only. Each renderer returns a :class:`Rendered` carrying
the truth a correct pipeline should recover (label, language, hetu, per-page text).
"""

from classifiers.synth.attachments import ATTACHMENT_KINDS, render_attachment
from classifiers.synth.degrade import degrade
from classifiers.synth.forms import render_form
from classifiers.synth.letters import render_blank, render_letter
from classifiers.synth.people import invalid_hetu, test_hetu
from classifiers.synth.rendered import HetuRequest, Rendered

__all__ = [
    "ATTACHMENT_KINDS",
    "HetuRequest",
    "Rendered",
    "degrade",
    "invalid_hetu",
    "render_attachment",
    "render_blank",
    "render_form",
    "render_letter",
    "test_hetu",
]
