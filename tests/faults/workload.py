"""A mixed workload for fault tests: loose scans, job folders and bad files (one in every round).

Pages are rendered once per session (synthetic Kela forms and attachments, test identity codes
only) and copied under new names for every input. Each input is written beside the inbox and
renamed in, as a scanner finishing a file does.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

from classifiers.catalogue import load_catalogue
from classifiers.synth import render_attachment, render_form
from tests.faults.ledger import Input, Ledger

FORMS = (("TO 1", "fi"), ("AT 1", "sv"), ("KM 1", "fi"))
ATTACHMENTS = (("attachment/bank_statement", "fi"), ("attachment/pay_slip", "sv"))
# Share of each kind of input; bad ones end in quarantine.
KINDS = (("loose", 5), ("folder", 3), ("bad", 1), ("truncated", 1))


def render_pages() -> list[bytes]:
    """PNG bytes of a few single pages: forms first, then attachments."""
    catalogue = load_catalogue()
    images = [render_form(catalogue.by_code(code)[0], lang, seed=500 + n, pages=1).pages[0]
              for n, (code, lang) in enumerate(FORMS)]
    images += [render_attachment(kind, lang, seed=600 + n).pages[0]
               for n, (kind, lang) in enumerate(ATTACHMENTS)]
    out = []
    for image in images:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", dpi=(300, 300))
        out.append(buffer.getvalue())
    return out


def kinds_for_round(rng: random.Random, count: int) -> list[str]:
    """``count`` kinds of input in a random order: a folder and a bad file always among them,
    the rest drawn by the weights in ``KINDS``."""
    drawn = ["folder", rng.choice(["bad", "truncated"])]
    drawn += rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS], k=count - 2)
    rng.shuffle(drawn)
    return drawn


def drop_input(inbox: Path, pages: list[bytes], ledger: Ledger, rng: random.Random,
               name: str, kind: str) -> Input:
    """Write one input of ``kind`` (see ``KINDS``) named after ``name`` into ``inbox``."""
    forms = pages[: len(FORMS)]
    staging = inbox.parent / "staging"
    staging.mkdir(exist_ok=True)
    if kind == "folder":
        folder = staging / f"{name}-job"
        folder.mkdir()
        documents = (f"{name}-1.png", f"{name}-2.png")
        (folder / documents[0]).write_bytes(rng.choice(forms))
        (folder / documents[1]).write_bytes(rng.choice(pages))
        (folder / ".done").touch()
        item = Input(folder.name, documents)
        source = folder
    else:
        source = staging / f"{name}-{kind}.png"
        if kind == "loose":
            source.write_bytes(rng.choice(pages))
        elif kind == "truncated":
            page = rng.choice(pages)
            source.write_bytes(page[: len(page) // 3])
        else:
            source.write_bytes(rng.randbytes(4096))
        item = Input(source.name, (source.name,), bad=kind != "loose")
    ledger.add(item)
    source.rename(inbox / source.name)
    return item
