"""A child's shared summary as a PDF for the case file (fpdf2), with the network circle.

The words come from a Jinja template with autoescaping (bot/web/templates/portal/
pdf_summary.html) rendered through fpdf2's HTML writer: the child's words arrive as
escaped text, so "<b>" or "<script>" in an answer is printed as those characters and
never read as markup. DejaVu Sans (shipped with matplotlib) covers the letters children
type beyond Latin-1.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import matplotlib
from fpdf import FPDF
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.network.circle import CirclePerson, render_circle_png
from bot.portal.shared import SharedView

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"
FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True)
    )


def summary_pdf(
    *,
    view: SharedView,
    child_name: str | None,
    child_id: int,
    age_group: str | None,
    made_by: str,
    made_at: datetime,
    compress: bool = True,
) -> bytes:
    """`compress=False` keeps the page streams readable (the tests read the text back)."""
    env = _environment()
    values = {
        "view": view,
        "child_name": child_name,  # None: the templates say "kind <id>"
        "child_id": child_id,
        "age_group": age_group,
        "made_by": made_by,
        "made_at": made_at.strftime("%d-%m-%Y %H:%M"),
    }
    pdf = FPDF(format="A4")
    pdf.set_compression(compress)
    pdf.set_title("Mijn Stem")
    pdf.set_creator("Mijn Stem")
    pdf.add_font("dejavu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("dejavu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_font("dejavu", "I", str(FONTS / "DejaVuSans-Oblique.ttf"))
    pdf.add_font("dejavu", "BI", str(FONTS / "DejaVuSans-BoldOblique.ttf"))
    pdf.set_font("dejavu", size=11)
    pdf.add_page()
    pdf.write_html(env.get_template("portal/pdf_summary.html").render(values), font_family="dejavu")
    current = [p for p in view.people if not p.earlier]
    if current:
        pdf.add_page()
        pdf.write_html(
            env.get_template("portal/pdf_circle.html").render(values), font_family="dejavu"
        )
        png = render_circle_png(
            [CirclePerson(p.label, p.role, p.ring, p.contact_wish) for p in current],
            dpi=150,
        )
        pdf.image(io.BytesIO(png), w=170)
    return bytes(pdf.output())
