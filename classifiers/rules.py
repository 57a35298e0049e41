"""The rule classifier: the form code where Kela prints it, checked against the title.

Evidence, strongest first: a catalogue code in a page's header strip, the same in its footer
strip (next to the MM.YY version date), the printed title in the header (which also tells the
two EV 256 documents apart and stands in when OCR dropped the code). A code inside a sentence
("Liitä hakemukseen TO 1 …") is only a mention and never makes a document that form. Documents
with no form evidence are checked for attachment keywords, and are otherwise "unknown".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from classifiers.base import Classification, DocumentText, Evidence, Language, PageText
from classifiers.catalogue import Catalogue, Form, load_catalogue
from classifiers.codes import CodeHit, find_codes
from classifiers.language import detect_language
from classifiers.titles import FUZZY_MIN, Region, best_ratio, keyword_hits, title_score, words

RULES_VERSION = 1
_EDGE_LINES = 3  # the page text's last lines count as footer too
_TITLE_LINES = 6  # the title sits at the top: look no further down page 1
_WEIGHTS = {"header_code": 0.45, "footer_code": 0.3, "title": 0.35}
_CORRECTED_FACTOR = 0.8  # a code read through a confusion counts a little less
_TITLE_MIN = 0.75  # share of a title's letters that must be read for it to count
_ATTACHMENT_MIN_HITS = 2
_KEYWORD_WEIGHT = 0.15
_PROSE_WORDS_MAX = 3  # more sentence words than this around a code make it a mention
# Words printed around the code in headers and footers that are not running text.
_FURNITURE = frozenset({
    "kela", "fpa", "www", "fi", "kela.fi", "www.kela.fi", "sivu", "sida", "page", "pl", "pb",
    "kansaneläkelaitos", "folkpensionsanstalten", "verkkolomake", "webblankett", "pdf",
    "tyhjennä", "lomake", "töm", "blankett", "saapunut", "inkommit", "kelan", "täyttää",
})


@dataclass(frozen=True)
class _Zones:
    """The lines of one page, sorted by where a form code would mean something."""

    header: list[str]
    footer: list[str]
    body: list[str]
    top: list[str]  # where the title is printed: the header strip and the first text lines


class RuleClassifier:
    """Classifies a document by form code, title and keywords, using the form catalogue."""

    def __init__(self, catalogue: Catalogue | None = None) -> None:
        self._catalogue = catalogue or load_catalogue()
        self._known = frozenset(self._catalogue.codes())
        self._vocabulary = frozenset(
            w for f in self._catalogue.forms for t in (f.title_fi, f.title_sv) for w in words(t)
        ) | _FURNITURE

    @property
    def version(self) -> str:
        """``rules/1+forms:<catalogue digest>``."""
        return f"rules/{RULES_VERSION}+forms:{self._catalogue.digest}"

    def classify(self, document: DocumentText) -> Classification:
        """Form, attachment or unknown for ``document``, with the clues that decided it."""
        if not document.pages:
            return _unknown("und", ())
        zones = [_zones(page) for page in document.pages]
        tokens = words(document.full_text)
        code_evidence, mentions, suffix_langs = self._code_evidence(zones)
        title_region = Region.of("\n".join(zones[0].top))
        titles = self._title_scores(title_region)
        title_evidence = _best_titles(titles)
        votes: dict[str, float] = defaultdict(float)
        for by_code in (code_evidence, title_evidence):
            for code, items in by_code.items():
                votes[code] += sum(e.weight for e in items)
        all_evidence = _flatten(code_evidence) + _flatten(title_evidence) + mentions
        if not votes:
            return self._attachment_or_unknown(document, tokens, all_evidence)
        code = max(votes, key=lambda c: (votes[c], c))
        form, title_lang = self._variant(code, title_region, titles)
        others = max((v for c, v in votes.items() if c != code), default=0.0)
        hints = [*suffix_langs.get(code, []), *([title_lang] if code in title_evidence else [])]
        return Classification(
            form_code=code,
            kind="form",
            language=detect_language(tokens, hints),
            confidence=_confidence(votes[code], others),
            classified_by="rule",
            evidence=tuple(all_evidence),
            form_variant=form.variant,
        )

    def _code_evidence(
        self, zones: list[_Zones]
    ) -> tuple[dict[str, list[Evidence]], list[Evidence], dict[str, list[Language]]]:
        """Header and footer codes (each kind once per code), body mentions, suffix languages."""
        best: dict[tuple[str, str], Evidence] = {}
        mentions: dict[str, Evidence] = {}
        langs: dict[str, list[Language]] = defaultdict(list)
        for page, zone in enumerate(zones, start=1):
            for kind, line, hit in self._hits(zone):
                if kind == "mentioned_code" or self._is_mention(line, hit):
                    mentions.setdefault(hit.code, Evidence(
                        "mentioned_code", f"{hit.code} in running text on page {page}", 0.0))
                    continue
                clue = _code_clue(kind, hit, page)
                if (hit.code, kind) not in best or clue.weight > best[hit.code, kind].weight:
                    best[hit.code, kind] = clue
                if hit.suffix_language is not None:
                    langs[hit.code].append(hit.suffix_language)
        by_code: dict[str, list[Evidence]] = defaultdict(list)
        for (code, _), clue in best.items():
            by_code[code].append(clue)
        unplaced = [m for code, m in mentions.items() if code not in by_code]
        return dict(by_code), unplaced, langs

    def _hits(self, zone: _Zones) -> list[tuple[str, str, CodeHit]]:
        """(zone kind, line, hit) for every catalogue code on the page."""
        return [
            (kind, line, hit)
            for kind, lines in (("header_code", zone.header), ("footer_code", zone.footer),
                                ("mentioned_code", zone.body))
            for line in lines
            for hit in find_codes(line, self._known)
        ]

    def _is_mention(self, line: str, hit: CodeHit) -> bool:
        """True when the code sits in a sentence rather than next to a title or a date."""
        tokens = line.split()
        before, after = tokens[:hit.start], tokens[hit.end:]
        prose = [w for w in words(" ".join(before + after)) if self._is_prose(w)]
        if len(prose) > _PROSE_WORDS_MAX:
            return True
        if after and after[0].startswith("-"):
            return True  # "TO 1 -lomake", "TO 1 -blanketten"
        neighbours = words(before[-1] if before else "") + words(after[0] if after else "")
        return any(self._is_prose(w) for w in neighbours[-1:] + neighbours[:1])

    def _is_prose(self, word: str) -> bool:
        if len(word) < 2 or not word.isalpha() or word in self._vocabulary:
            return False
        return best_ratio(word, self._vocabulary) < FUZZY_MIN

    def _title_scores(self, region: Region) -> dict[Form, tuple[float, Language]]:
        """Each form's best title score in ``region`` and the language of that title.

        Exact words first; the slower fuzzy pass only when no title was read in full.
        """
        scores: dict[Form, tuple[float, Language]] = {}
        for fuzzy in (False, True):
            for form in self._catalogue.forms:
                fi = title_score(form.title_fi, region, fuzzy=fuzzy)
                sv = title_score(form.title_sv, region, fuzzy=fuzzy)
                scores[form] = (fi, "fi") if fi >= sv else (sv, "sv")
            if max(score for score, _ in scores.values()) >= 1.0:
                break
        return scores

    def _variant(
        self, code: str, region: Region, titles: dict[Form, tuple[float, Language]]
    ) -> tuple[Form, Language]:
        """The catalogue entry of ``code`` whose title (then keywords) fits best."""

        def fit(form: Form) -> tuple[float, int]:
            return titles[form][0], len(keyword_hits(form.keywords_fi + form.keywords_sv, region))

        form = max(self._catalogue.by_code(code), key=fit)
        return form, titles[form][1]

    def _attachment_or_unknown(
        self, document: DocumentText, tokens: list[str], evidence: list[Evidence]
    ) -> Classification:
        """The attachment kind with the most keyword hits (at least two), else unknown."""
        region = Region.of(document.full_text)
        best: tuple[str, list[str], list[str]] = ("", [], [])
        for kind in self._catalogue.attachments:
            fi = keyword_hits(kind.keywords_fi, region)
            sv = [k for k in keyword_hits(kind.keywords_sv, region) if k not in fi]
            if len(fi) + len(sv) > len(best[1]) + len(best[2]):
                best = (kind.kind, fi, sv)
        kind_name, fi, sv = best
        if len(fi) + len(sv) < _ATTACHMENT_MIN_HITS:
            return _unknown(detect_language(tokens), tuple(evidence))
        # Attachments carry few common words; which list's keywords were read is the hint.
        hint: list[Language] = ["fi"] if len(fi) > len(sv) else ["sv"] if len(sv) > len(fi) else []
        clues = [Evidence("keyword", f"{kind_name}: {hit}", _KEYWORD_WEIGHT) for hit in fi + sv]
        return Classification(
            form_code=None,
            kind=kind_name,  # type: ignore[arg-type]  # catalogue.py checks it is a Kind
            language=detect_language(tokens, hint),
            confidence=round(min(0.9, 0.3 + _KEYWORD_WEIGHT * len(clues)), 3),
            classified_by="rule",
            evidence=tuple(evidence + clues),
        )


def _zones(page: PageText) -> _Zones:
    """Header: the header strip and the first text lines (full-page OCR sometimes keeps a code
    the strip read dropped, and the other way round); footer likewise; body: the rest."""
    lines = _lines(page.text)
    # Full-page OCR may order the header's parts after the title: take as many lines as the
    # title search does. Sentences among them are still only mentions.
    head = min(_TITLE_LINES, len(lines) // 2)
    tail = min(_EDGE_LINES, len(lines) - head)
    header = _lines(page.header) + lines[:head]
    footer = _lines(page.footer) + lines[len(lines) - tail:]
    top = _lines(page.header) + lines[:_TITLE_LINES]
    return _Zones(header, footer, lines[head:len(lines) - tail], top)


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def _code_clue(kind: str, hit: CodeHit, page: int) -> Evidence:
    weight = _WEIGHTS[kind] * (_CORRECTED_FACTOR if hit.corrected else 1.0)
    detail = f"{hit.code} read as {hit.raw!r} on page {page}"
    return Evidence(kind, detail, round(weight, 3))


def _best_titles(titles: dict[Form, tuple[float, Language]]) -> dict[str, list[Evidence]]:
    """Title evidence for the best-matching code(s) only: near titles are not extra votes."""
    best = max((score for score, _ in titles.values()), default=0.0)
    if best < _TITLE_MIN:
        return {}
    out: dict[str, list[Evidence]] = {}
    for form, (score, lang) in titles.items():
        if score >= best - 1e-9 and form.code not in out:
            title = form.title_fi if lang == "fi" else form.title_sv
            out[form.code] = [Evidence("title", f"{form.code}: {title!r} ({score:.2f})",
                                       round(_WEIGHTS["title"] * score, 3))]
    return out


def _flatten(by_code: dict[str, list[Evidence]]) -> list[Evidence]:
    return [ev for items in by_code.values() for ev in items]


def _confidence(support: float, against: float) -> float:
    """Header + footer + title ≈ 0.99; a header code alone 0.45; a title alone ≤ 0.35; rivals
    for another code cut it."""
    return round(max(0.05, min(0.99, support - 0.5 * against)), 3)


def _unknown(language: Language, evidence: tuple[Evidence, ...]) -> Classification:
    """No form and no attachment: confidence 0, as nothing supports any answer."""
    return Classification(form_code=None, kind="unknown", language=language, confidence=0.0,
                          classified_by="rule", evidence=evidence)
