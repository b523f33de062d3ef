"""The case-file PDF: the shared summary and the circle, and a child's HTML printed as
the characters the child typed (read back from the PDF itself)."""

from __future__ import annotations

from datetime import datetime, timezone

from bot.portal.pdf import summary_pdf
from bot.portal.shared import SharedAnswer, SharedPerson, SharedView, SharedWish
from tests.support.pdf_text import pdf_text

WHEN = datetime(2026, 12, 3, 9, 30, tzinfo=timezone.utc)


def _pdf(view: SharedView, name: str | None = "Lisa") -> bytes:
    return summary_pdf(
        view=view,
        child_name=name,
        child_id=7,
        age_group="10-13",
        made_by="Sanne de Vries",
        made_at=WHEN,
        compress=False,
    )


def test_shared_items_and_the_circle_are_in_the_pdf() -> None:
    view = SharedView(
        wishes=[SharedWish(1, "wonen", "vaker bij oma logeren", WHEN, False)],
        people=[SharedPerson(1, "oma Truus", "oma", "family", 1, "weekly", "more", False)],
        answers={"message": [SharedAnswer(2, "message", "ik mis mijn moeder", WHEN, False)]},
    )
    data = _pdf(view)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "Mijn Stem: wat Lisa deelde" in text
    assert "vaker bij oma logeren (wonen, 03-12-2026)" in text
    assert "oma Truus: eigen familie, heel dichtbij, ziet elke week, wil meer contact" in text
    assert "Wat mijn jeugdzorgwerker moet weten" in text and "ik mis mijn moeder" in text
    assert "Het netwerk van Lisa" in text
    assert data.count(b"/Subtype /Image") == 1  # the circle


def test_html_in_the_childs_words_is_printed_as_text() -> None:
    words = "<script>alert('x')</script><b>vet</b> & (haakjes) \\ é"
    view = SharedView(
        wishes=[SharedWish(1, "wonen", words, WHEN, False)],
        answers={"own_say": [SharedAnswer(2, "own_say", "<h1>groot</h1>", WHEN, False)]},
    )
    text = pdf_text(_pdf(view, name="<i>Lisa</i>"))
    assert words in text
    assert "<h1>groot</h1>" in text
    assert "Mijn Stem: wat <i>Lisa</i> deelde" in text


def test_nothing_shared_yet() -> None:
    text = pdf_text(_pdf(SharedView()))
    assert "Het kind heeft nog niets gedeeld." in text


def test_a_child_without_a_name_is_called_by_number() -> None:
    view = SharedView(
        wishes=[], people=[SharedPerson(1, "oma Truus", "oma", "family", 1, "weekly", "more",
                                        False)],
        answers={},
    )
    text = pdf_text(_pdf(view, name=None))
    assert "Mijn Stem: wat kind 7 deelde" in text
    assert "Het netwerk van kind 7" in text
    assert "None" not in text
