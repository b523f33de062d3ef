"""The network circle as a picture, drawn with matplotlib (the object API with the Agg and
SVG canvases: no pyplot, no global figure state, safe in threads).

The child is in the middle; people sit on three rings by closeness (1 = inner), in five
sectors by role (bot/network/sectors.py); a wish for more or less contact is a green "+"
or an orange "−" by the person. The same drawing is an SVG for the portal and a PNG that
the chat sends to the child.

The people's labels are the child's words. They are drawn as plain text: mathtext is off
(`parse_math=False`, so "$x$" stays "$x$"), control characters are dropped, long labels
are cut, and the SVG writer escapes XML; the portal shows the SVG through <img>, where
no script can run anyway.
"""

from __future__ import annotations

import functools
import io
import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Wedge
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.network.sectors import OTHER, SECTORS, sector_of
from bot.settings import PROJECT_ROOT
from bot.storage.models import Person

LABELS_FILE = PROJECT_ROOT / "bot" / "templates" / "network" / "circle.yml"
MAX_LABEL = 22
MAX_PEOPLE = 40
RING_RADII = {1: 1.0, 2: 1.8, 3: 2.6}
SECTOR_COLOURS = {
    "family": "#f4d9c6",
    "foster_family": "#f7ecc0",
    "friends": "#d5ead2",
    "school_sport": "#d3e4f3",
    "professionals": "#e4dbef",
}
INK = "#1f2d35"
MORE = "#2e7d32"
LESS = "#d4600b"


@dataclass(frozen=True)
class CirclePerson:
    label: str
    role: str | None
    ring: int | None  # 1..3; None (skipped) goes on the outer ring
    contact_wish: str | None  # more | same | less | None


@functools.lru_cache(maxsize=1)
def _words() -> dict[str, Any]:
    return yaml.safe_load(Path(LABELS_FILE).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def safe_label(text: str) -> str:
    """One line of plain text: no control or format characters, at most MAX_LABEL."""
    flat = " ".join(text.split())
    flat = "".join(ch for ch in flat if unicodedata.category(ch)[0] != "C")
    return flat if len(flat) <= MAX_LABEL else flat[: MAX_LABEL - 1] + "…"


def _positions(people: list[CirclePerson]) -> list[tuple[CirclePerson, float, float]]:
    """(person, x, y): each sector spans 72 degrees clockwise from the top; people of one
    sector and ring are spread evenly inside it. "Other" people share the gaps."""
    groups: dict[tuple[str, int], list[CirclePerson]] = {}
    for person in people:
        ring = person.ring if person.ring in RING_RADII else 3
        groups.setdefault((sector_of(person.role), ring), []).append(person)
    span = 360 / len(SECTORS)
    placed = []
    for (sector, ring), members in groups.items():
        index = SECTORS.index(sector) if sector != OTHER else None
        for i, person in enumerate(members):
            if index is None:
                # Spread over the whole ring, between the sectors' middles.
                angle = 90 - (i + 0.5) * 360 / len(members) - span / 2
            else:
                start = 90 - index * span
                angle = start - span * (i + 1) / (len(members) + 1)
            radius = RING_RADII[ring]
            rad = math.radians(angle)
            placed.append((person, radius * math.cos(rad), radius * math.sin(rad)))
    return placed


def _figure(people: list[CirclePerson], child_label: str | None) -> Figure:
    words = _words()
    figure = Figure(figsize=(7, 7), dpi=100)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(-4.7, 4.7)
    axes.set_ylim(-4.0, 3.8)
    axes.set_aspect("equal")
    axes.axis("off")
    span = 360 / len(SECTORS)
    for index, sector in enumerate(SECTORS):
        start = 90 - (index + 1) * span
        axes.add_patch(
            Wedge(
                (0, 0),
                3.0,
                start,
                start + span,
                facecolor=SECTOR_COLOURS[sector],
                edgecolor="white",
                linewidth=2,
            )
        )
        middle = math.radians(start + span / 2)
        cos, sin = math.cos(middle), math.sin(middle)
        axes.text(
            3.12 * cos,
            3.12 * sin,
            words["sectors"][sector],
            ha="left" if cos > 0.3 else "right" if cos < -0.3 else "center",
            va="bottom" if sin > 0.3 else "top" if sin < -0.3 else "center",
            fontsize=10,
            color=INK,
            weight="bold",
            parse_math=False,
        )
    for radius in RING_RADII.values():
        axes.add_patch(
            Circle(
                (0, 0), radius, fill=False, edgecolor="#8a9aa3", linewidth=1, linestyle=(0, (4, 3))
            )
        )
    axes.add_patch(Circle((0, 0), 0.45, facecolor="#2b6a6e", edgecolor="white", linewidth=2))
    axes.text(
        0,
        0,
        safe_label(child_label or words["child"]),
        ha="center",
        va="center",
        fontsize=10,
        color="white",
        weight="bold",
        parse_math=False,
    )
    for person, x, y in _positions(people[:MAX_PEOPLE]):
        axes.add_patch(Circle((x, y), 0.12, facecolor="white", edgecolor=INK, linewidth=1.2))
        axes.text(
            x,
            y - 0.2,
            safe_label(person.label),
            ha="center",
            va="top",
            fontsize=8.5,
            color=INK,
            parse_math=False,
        )
        if person.contact_wish in ("more", "less"):
            colour = MORE if person.contact_wish == "more" else LESS
            axes.text(
                x + 0.17,
                y + 0.1,
                "+" if person.contact_wish == "more" else "−",
                ha="center",
                va="center",
                fontsize=13,
                weight="bold",
                color=colour,
                parse_math=False,
            )
    legend = words["legend"]
    axes.text(-4.6, -3.65, f"+ {legend['more']}", color=MORE, fontsize=9, parse_math=False)
    axes.text(-4.6, -3.9, f"− {legend['less']}", color=LESS, fontsize=9, parse_math=False)
    axes.text(4.6, -3.9, legend["rings"], color=INK, fontsize=8, ha="right", parse_math=False)
    return figure


def render_circle_svg(people: list[CirclePerson], child_label: str | None = None) -> str:
    # Text stays text (searchable, scalable); ids do not change between runs.
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "mijnstem", "text.usetex": False}):
        figure = _figure(people, child_label)
        out = io.StringIO()
        FigureCanvasSVG(figure).print_svg(out, metadata={"Date": None})
    return out.getvalue()


def render_circle_png(
    people: list[CirclePerson], child_label: str | None = None, *, dpi: int = 110
) -> bytes:
    with rc_context({"text.usetex": False}):
        figure = _figure(people, child_label)
        out = io.BytesIO()
        FigureCanvasAgg(figure)
        figure.savefig(out, format="png", dpi=dpi, metadata={"Software": None})
    return out.getvalue()


def people_of_child(*, session: Session, child_id: int, shared_only: bool) -> list[CirclePerson]:
    """The child's current people (not replaced by a redo of the topic). The portal asks
    for the shared ones only; the child's own picture shows all of them."""
    query = select(Person).where(Person.child_id == child_id, Person.replaced_at.is_(None))
    if shared_only:
        query = query.where(Person.shared.is_(True))
    return [
        CirclePerson(label=p.label, role=p.role, ring=p.ring, contact_wish=p.contact_wish)
        for p in session.scalars(query.order_by(Person.id))
    ]


def child_circle_png(*, session: Session, child_id: int) -> bytes | None:
    """The PNG the chat sends to the child at the end of the people topic ("Zo ziet
    jouw cirkel eruit"); None when the child named no one."""
    people = people_of_child(session=session, child_id=child_id, shared_only=False)
    return render_circle_png(people) if people else None
