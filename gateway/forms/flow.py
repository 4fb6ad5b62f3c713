"""The referral flow diagram (diagramme de flux d'orientation), drawn from the state machine.

Every status of ``ReferralStatus`` and every (action, from, to) of ``schemas.referral.TRANSITIONS``
is drawn, with French labels, so the paper procedure cannot drift from what the gateway
enforces. The SOP deadlines and, when an MoU policy file is given, a note on consent and data
sharing complete it. One layout feeds both renderers: SVG (text, deterministic, committed in
``docs/``) and PNG (Pillow).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from gateway.forms.fonts import font_path
from gateway.policy.models import PolicyFile
from schemas.codes import (
    SOP_DEADLINES,
    DataCategory,
    ReferralAction,
    ReferralStatus,
    Urgency,
    label,
)
from schemas.referral import TERMINAL_STATUSES, TRANSITIONS, Actor

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POLICY = REPOSITORY_ROOT / "deploy" / "policies" / "mou-guinee.yaml"

TITLE = "Diagramme de flux d'orientation du MNO"
SUBTITLE = (
    "Statuts d'un référencement et actions autorisées, générés depuis la machine à états "
    "appliquée par la passerelle"
)

ACTOR_LABELS: dict[Actor, str] = {
    Actor.RECEIVER: "agence destinataire",
    Actor.REFERRER: "agence qui oriente",
    Actor.EITHER: "l'une ou l'autre agence",
}

FONT_SIZE = 13
SMALL = 11
CHAR_WIDTH = 0.6  # average advance of DejaVu Sans, in em: the layout never measures a font
NODE_W, NODE_H = 190, 58
COL_STEP, ROW_STEP = 300, 150
MARGIN = 40
TOP = 140
PANEL_W = 420
LINE = 16

COLOURS = {
    "node": "#e8f1fb",
    "node_stroke": "#1f4e79",
    "terminal": "#eeeeee",
    "terminal_stroke": "#555555",
    "text": "#1a1a1a",
    "muted": "#555555",
    "note": "#fff8e1",
    "note_stroke": "#c8a400",
}
ACTOR_COLOURS: dict[Actor, str] = {
    Actor.RECEIVER: "#1f4e79",
    Actor.REFERRER: "#9c4a00",
    Actor.EITHER: "#5b2c83",
}


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Node:
    status: ReferralStatus
    x: float  # top-left corner
    y: float
    label: str
    terminal: bool

    @property
    def centre(self) -> Point:
        return Point(self.x + NODE_W / 2, self.y + NODE_H / 2)


@dataclass(frozen=True)
class Edge:
    """One (action, from, to) of the machine; ``source`` None is the entry arrow (submit)."""

    action: ReferralAction
    source: ReferralStatus | None
    target: ReferralStatus
    curve: tuple[Point, Point, Point, Point]  # cubic Bézier
    colour: str


@dataclass(frozen=True)
class Label:
    """The label of every edge of one action into one status (drawn once)."""

    action: ReferralAction
    target: ReferralStatus
    lines: tuple[str, str]
    at: Point
    colour: str

    @property
    def box(self) -> tuple[float, float, float, float]:
        width = max(text_width(self.lines[0]), text_width(self.lines[1], SMALL)) + 14
        return self.at.x - width / 2, self.at.y - 17, width, 34.0


@dataclass(frozen=True)
class Note:
    title: str
    lines: tuple[str, ...]
    x: float
    y: float
    width: float
    height: float
    swatches: tuple[tuple[str, str], ...] = ()  # (colour, text) legend entries


@dataclass(frozen=True)
class Diagram:
    width: float
    height: float
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    labels: tuple[Label, ...]
    notes: tuple[Note, ...] = field(default=())


def text_width(text: str, size: float = FONT_SIZE) -> float:
    return len(text) * size * CHAR_WIDTH


def wrap(text: str, width: float, size: float = FONT_SIZE) -> list[str]:
    """Greedy word wrap on the estimated width."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and text_width(candidate, size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def transitions() -> list[tuple[ReferralAction, ReferralStatus, ReferralStatus]]:
    """Every (action, from, to) of the state machine, in code-list order."""
    order = list(ReferralStatus)
    return [
        (action, source, rule.to_status)
        for action, rule in TRANSITIONS.items()
        for source in sorted(rule.from_statuses, key=order.index)
    ]


Move = tuple[ReferralAction, ReferralStatus, ReferralStatus]


def _ranks(moves: Sequence[Move]) -> dict[ReferralStatus, int]:
    """Longest distance from ``submitted``; the machine is acyclic (checked)."""
    rank = dict.fromkeys(ReferralStatus, 0)
    for _ in range(len(rank) + 1):
        changed = False
        for _action, source, target in moves:
            if rank[target] < rank[source] + 1:
                rank[target] = rank[source] + 1
                changed = True
        if not changed:
            return rank
    raise ValueError("la machine à états a un cycle / the state machine has a cycle")


def _main_path(moves: Sequence[Move], rank: dict[ReferralStatus, int]) -> list[ReferralStatus]:
    """The longest path, followed back from the deepest status."""
    order = list(ReferralStatus)
    node = max(order, key=lambda s: (rank[s], -order.index(s)))
    path = [node]
    while rank[node] > 0:
        sources = [s for _a, s, t in moves if t == node and rank[s] == rank[node] - 1]
        node = min(sources, key=order.index)
        path.append(node)
    return path[::-1]


def _label_lines(action: ReferralAction) -> tuple[str, str]:
    rule = TRANSITIONS[action]
    extra = ""
    if rule.requires_reason:
        extra = ", motif requis"
    elif rule.requires_outcome:
        extra = ", résultat requis"
    return label(action, "fr"), f"({ACTOR_LABELS[rule.actor]}{extra})"


def _bezier(curve: tuple[Point, Point, Point, Point], t: float) -> Point:
    p0, p1, p2, p3 = curve
    u = 1 - t
    return Point(
        u**3 * p0.x + 3 * u * u * t * p1.x + 3 * u * t * t * p2.x + t**3 * p3.x,
        u**3 * p0.y + 3 * u * u * t * p1.y + 3 * u * t * t * p2.y + t**3 * p3.y,
    )


def _spread(count: int, index: int, low: float, high: float) -> float:
    return low + (high - low) * (index + 1) / (count + 1)


def policy_note_lines(policy: PolicyFile) -> list[str]:
    """What a field worker must know of the MoU before referring (French)."""
    lines = [
        f"{policy.title_fr}, version {policy.version}.",
        "Aucun partage sans consentement valide : il est vérifié à chaque envoi ; un "
        "consentement retiré arrête tout partage, y compris les renvois.",
    ]
    if policy.explicit_consent_categories:
        names = ", ".join(
            label(DataCategory(c), "fr").lower() for c in policy.explicit_consent_categories
        )
        lines.append(f"Consentement explicite, nommant l'agence destinataire, pour : {names}.")
    minors = policy.minors
    minor = f"Mineurs (moins de {minors.age_of_majority} ans) :"
    if minors.guardian_consent_required:
        minor += " consentement du parent ou du tuteur"
    if minors.child_assent_from_age is not None:
        minor += f", assentiment de l'enfant dès {minors.child_assent_from_age} ans"
    lines.append(minor + ".")
    lines.append(
        "La passerelle ne voit que des pseudonymes et des codes ; l'identité voyage chiffrée "
        "pour l'agence destinataire."
    )
    if policy.break_glass is not None and policy.break_glass.enabled:
        lines.append(
            "Accès d'urgence (bris de glace) : urgence vitale seulement, "
            f"{policy.break_glass.max_duration_hours} h au plus, journalisé et notifié."
        )
    return lines


def build_diagram(policy: PolicyFile | None = None) -> Diagram:
    """Lay the machine out top to bottom along its longest path, other statuses beside it."""
    moves = transitions()
    rank = _ranks(moves)
    main = _main_path(moves, rank)
    column: dict[ReferralStatus, int] = dict.fromkeys(main, 0)
    # Other statuses: right of the main column, then left, never two in one cell.
    slots = [k * sign for k in range(1, len(ReferralStatus)) for sign in (1, -1)]
    for status in ReferralStatus:
        if status not in column:
            used = [column[s] for s in column if column[s] != 0]
            taken = {column[s] for s in column if rank[s] == rank[status]}
            free = [slot for slot in slots if slot not in taken]
            column[status] = min(free, key=lambda slot: (used.count(slot), slots.index(slot)))
    left_col = min(column.values())
    centre_x = MARGIN + 70 + (0 - left_col) * COL_STEP + NODE_W / 2
    nodes = {
        status: Node(
            status,
            centre_x + column[status] * COL_STEP - NODE_W / 2,
            TOP + rank[status] * ROW_STEP,
            label(status, "fr"),
            status in TERMINAL_STATUSES,
        )
        for status in ReferralStatus
    }

    def kind(source: ReferralStatus, target: ReferralStatus) -> str:
        if column[source] == column[target]:
            return "down" if rank[target] - rank[source] == 1 else "jump"
        if column[source] == 0:
            return "out"
        return "in" if column[target] == 0 else "down"

    # Ports: a status's bottom holds its "down" departures, its top the "down"/"out"
    # arrivals, each sorted by the other end's position so that curves do not cross there.
    bottom: dict[ReferralStatus, list[ReferralStatus]] = {s: [] for s in ReferralStatus}
    top: dict[ReferralStatus, list[ReferralStatus]] = {s: [] for s in ReferralStatus}
    for _action, source, target in moves:
        k = kind(source, target)
        if k in ("down", "in"):
            bottom[source].append(target)
        if k in ("down", "out"):
            top[target].append(source)
    for status in ReferralStatus:
        bottom[status].sort(key=lambda s: (nodes[s].x, nodes[s].y))
        top[status].sort(key=lambda s: (nodes[s].x, nodes[s].y))

    def jump_side(source: ReferralStatus, target: ReferralStatus) -> int:
        """The side with fewer statuses along the jump."""
        low, high = rank[source], rank[target]

        def crowd(side: int) -> int:
            return sum(1 for s in ReferralStatus if column[s] == side and low <= rank[s] <= high)

        return min((-1, 1), key=lambda side: (crowd(side), side))

    edges: list[Edge] = []
    start = nodes[ReferralStatus.SUBMITTED]
    entry_top = Point(start.centre.x, TOP - 56)
    edges.append(
        Edge(
            ReferralAction.SUBMIT,
            None,
            ReferralStatus.SUBMITTED,
            (
                entry_top,
                Point(entry_top.x, entry_top.y + 18),
                Point(entry_top.x, start.y - 18),
                Point(entry_top.x, start.y),
            ),
            ACTOR_COLOURS[Actor.REFERRER],
        )
    )
    labels: dict[tuple[ReferralAction, ReferralStatus], list[Point]] = {}
    straight: dict[tuple[ReferralAction, ReferralStatus], Point] = {}
    arcs: list[tuple[ReferralAction, ReferralStatus, Point]] = []
    for action, source, target in moves:
        a, b = nodes[source], nodes[target]
        k = kind(source, target)
        if k == "jump":
            side = jump_side(source, target)
            edge_x = a.x if side < 0 else a.x + NODE_W
            # Upper third of the sides: the lower third is where "out" edges leave.
            p0 = Point(edge_x, a.y + NODE_H * 0.35)
            p3 = Point(edge_x, b.y + NODE_H * 0.35)
            bulge = side * COL_STEP * 0.42
            curve = (p0, Point(p0.x + bulge, p0.y), Point(p3.x + bulge, p3.y), p3)
            middle = _bezier(curve, 0.5)
        elif k == "out":
            # Leave by the side facing the target, then come down onto its top.
            side = 1 if column[target] > column[source] else -1
            p0 = Point(a.x + (NODE_W if side > 0 else 0), a.y + NODE_H * 0.65)
            ports = top[target]
            p3 = Point(_spread(len(ports), ports.index(source), b.x, b.x + NODE_W), b.y)
            curve = (p0, Point(p3.x, p0.y), Point(p3.x, p0.y), p3)
            middle = _bezier(curve, 0.75)
        elif k == "in":
            # Go down from the bottom, then enter the target by the side facing the source.
            side = 1 if column[source] > column[target] else -1
            ports = bottom[source]
            p0 = Point(_spread(len(ports), ports.index(target), a.x, a.x + NODE_W), a.y + NODE_H)
            p3 = Point(b.x + (NODE_W if side > 0 else 0), b.centre.y)
            curve = (p0, Point(p0.x, p3.y), Point(p0.x, p3.y), p3)
            middle = _bezier(curve, 0.3)
        else:
            outs, ins = bottom[source], top[target]
            p0 = Point(_spread(len(outs), outs.index(target), a.x, a.x + NODE_W), a.y + NODE_H)
            p3 = Point(_spread(len(ins), ins.index(source), b.x, b.x + NODE_W), b.y)
            dy = (p3.y - p0.y) / 2
            curve = (p0, Point(p0.x, p0.y + dy), Point(p3.x, p3.y - dy), p3)
            middle = _bezier(curve, 0.5)
        colour = ACTOR_COLOURS[TRANSITIONS[action].actor]
        edges.append(Edge(action, source, target, curve, colour))
        if k == "jump":
            # An arc stands apart from the other edges into its target: its own label.
            arcs.append((action, target, middle))
        else:
            labels.setdefault((action, target), []).append(middle)
        if k == "down" and column[source] == column[target]:
            straight[(action, target)] = middle

    placed = [
        Label(
            ReferralAction.SUBMIT,
            ReferralStatus.SUBMITTED,
            (label(ReferralAction.SUBMIT, "fr"), f"({ACTOR_LABELS[Actor.REFERRER]})"),
            Point(entry_top.x + 110, TOP - 30),
            ACTOR_COLOURS[Actor.REFERRER],
        )
    ]
    for (action, target), points in labels.items():
        # One label per action and target: on its straight edge if it has one, else where
        # its edges gather.
        at = straight.get((action, target)) or Point(
            sum(p.x for p in points) / len(points), sum(p.y for p in points) / len(points)
        )
        placed.append(
            Label(
                action, target, _label_lines(action), at, ACTOR_COLOURS[TRANSITIONS[action].actor]
            )
        )

    for action, target, at in arcs:
        colour = ACTOR_COLOURS[TRANSITIONS[action].actor]
        placed.append(Label(action, target, _label_lines(action), at, colour))

    right_edge = centre_x + max(column.values()) * COL_STEP + NODE_W / 2 + 70
    panel_x = right_edge + 30
    width = panel_x + PANEL_W + MARGIN
    notes: list[Note] = []
    y: float = TOP - 56
    legend = tuple((ACTOR_COLOURS[actor], f"Action de {ACTOR_LABELS[actor]}") for actor in Actor)
    notes.append(Note("Légende", (), panel_x, y, PANEL_W, 36 + LINE * len(legend), legend))
    y += notes[-1].height + 14
    deadline_lines = [
        # The label's own "(accusé sous …)" is dropped: the hours come from the SOP table.
        f"{label(u, 'fr').split(' (')[0]} : accusé de réception sous "
        f"{SOP_DEADLINES[u].acknowledge_hours} h, acceptation ou refus sous "
        f"{SOP_DEADLINES[u].respond_hours} h."
        for u in Urgency
    ]
    deadline_lines.append(
        "Clôturé et Annulé sont définitifs ; un refus porte un motif codé, une fin de service "
        "un résultat codé."
    )
    boxes = [("Délais des procédures (POS) selon l'urgence", deadline_lines)]
    if policy is not None:
        boxes.append(("Protocole d'accord : consentement et partage", policy_note_lines(policy)))
    for title, lines in boxes:
        wrapped = tuple(part for line in lines for part in wrap(line, PANEL_W - 24, SMALL))
        notes.append(Note(title, wrapped, panel_x, y, PANEL_W, 40 + LINE * len(wrapped)))
        y += notes[-1].height + 14
    graph_bottom = TOP + max(rank.values()) * ROW_STEP + NODE_H
    height = max(graph_bottom, y - 14) + MARGIN
    return Diagram(width, height, tuple(nodes.values()), tuple(edges), tuple(placed), tuple(notes))


# --------------------------------------------------------------------------- SVG


def _fmt(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _text(
    x: float, y: float, text: str, *, size: int = FONT_SIZE, css: str = "", anchor: str = "middle"
) -> str:
    cls = f' class="{css}"' if css else ""
    return (
        f'<text x="{_fmt(x)}" y="{_fmt(y)}" font-size="{size}" text-anchor="{anchor}"{cls}>'
        f"{escape(text)}</text>"
    )


def _path(curve: tuple[Point, Point, Point, Point]) -> str:
    p0, p1, p2, p3 = curve
    return (
        f"M{_fmt(p0.x)},{_fmt(p0.y)} C{_fmt(p1.x)},{_fmt(p1.y)} "
        f"{_fmt(p2.x)},{_fmt(p2.y)} {_fmt(p3.x)},{_fmt(p3.y)}"
    )


def render_svg(diagram: Diagram) -> str:
    """The diagram as standalone SVG (French labels; ``data-*`` attributes carry the codes)."""
    w, h = _fmt(diagram.width), _fmt(diagram.height)
    out: list[str] = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" role="img" aria-labelledby="flow-title" lang="fr">',
        f'<title id="flow-title">{escape(TITLE)}</title>',
        "<style>"
        "text{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;fill:#1a1a1a}"
        "text.code{font-family:'DejaVu Sans Mono',monospace;fill:#555555}"
        "text.muted{fill:#555555}text.strong{font-weight:bold}"
        "</style>",
        "<defs>",
    ]
    for actor, colour in ACTOR_COLOURS.items():
        out.append(
            f'<marker id="arrow-{actor.value}" viewBox="0 0 10 10" refX="10" refY="5" '
            f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )
    out.append("</defs>")
    out.append('<rect width="100%" height="100%" fill="#ffffff"/>')
    out.append(_text(MARGIN, 38, TITLE, size=20, css="strong", anchor="start"))
    out.append(_text(MARGIN, 60, SUBTITLE, size=SMALL, css="muted", anchor="start"))
    marker = {colour: actor.value for actor, colour in ACTOR_COLOURS.items()}
    for edge in diagram.edges:
        source = edge.source.value if edge.source is not None else ""
        out.append(
            f'<g class="transition" data-action="{edge.action.value}" data-from="{source}" '
            f'data-to="{edge.target.value}"><path d="{_path(edge.curve)}" fill="none" '
            f'stroke="{edge.colour}" stroke-width="1.6" '
            f'marker-end="url(#arrow-{marker[edge.colour]})"/></g>'
        )
    for node in diagram.nodes:
        fill = COLOURS["terminal"] if node.terminal else COLOURS["node"]
        stroke = COLOURS["terminal_stroke"] if node.terminal else COLOURS["node_stroke"]
        width = 3 if node.terminal else 1.6
        c = node.centre
        suffix = " · définitif" if node.terminal else ""
        out.append(f'<g class="state" data-status="{node.status.value}">')
        out.append(
            f'<rect x="{_fmt(node.x)}" y="{_fmt(node.y)}" width="{NODE_W}" height="{NODE_H}" '
            f'rx="10" fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>'
        )
        out.append(_text(c.x, c.y - 2, node.label, css="strong"))
        out.append(_text(c.x, c.y + 16, node.status.value + suffix, size=SMALL, css="code"))
        out.append("</g>")
    for item in diagram.labels:
        x, y, bw, bh = item.box
        out.append(
            f'<g class="transition-label" data-action="{item.action.value}" '
            f'data-to="{item.target.value}">'
        )
        out.append(
            f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(bw)}" height="{_fmt(bh)}" rx="4" '
            f'fill="#ffffff" stroke="{item.colour}" stroke-width="0.8"/>'
        )
        out.append(_text(item.at.x, y + 14, item.lines[0], css="strong"))
        out.append(_text(item.at.x, y + 28, item.lines[1], size=SMALL, css="muted"))
        out.append("</g>")
    for note in diagram.notes:
        out.append('<g class="note">')
        out.append(
            f'<rect x="{_fmt(note.x)}" y="{_fmt(note.y)}" width="{_fmt(note.width)}" '
            f'height="{_fmt(note.height)}" rx="6" fill="{COLOURS["note"]}" '
            f'stroke="{COLOURS["note_stroke"]}"/>'
        )
        out.append(_text(note.x + 12, note.y + 22, note.title, css="strong", anchor="start"))
        for index, line in enumerate(note.lines):
            y = note.y + 40 + LINE * index
            out.append(_text(note.x + 12, y, line, size=SMALL, anchor="start"))
        for index, (colour, text) in enumerate(note.swatches):
            y = note.y + 40 + LINE * index
            out.append(
                f'<line x1="{_fmt(note.x + 12)}" y1="{_fmt(y - 4)}" x2="{_fmt(note.x + 42)}" '
                f'y2="{_fmt(y - 4)}" stroke="{colour}" stroke-width="2.5"/>'
            )
            out.append(_text(note.x + 50, y, text, size=SMALL, anchor="start"))
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- PNG


def render_png(diagram: Diagram, scale: float = 2.0) -> bytes:
    """The same drawing as a PNG (Pillow), for documents and slides."""
    from PIL import Image, ImageDraw, ImageFont

    def font(size: float, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        path = font_path(bold=bold)
        if path is not None:
            return ImageFont.truetype(str(path), round(size * scale))
        return ImageFont.load_default(size=round(size * scale))

    def at(x: float, y: float) -> tuple[float, float]:
        return x * scale, y * scale

    def box(x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
        return x * scale, y * scale, (x + w) * scale, (y + h) * scale

    image = Image.new("RGB", (round(diagram.width * scale), round(diagram.height * scale)), "white")
    draw = ImageDraw.Draw(image)
    small, bold, title = font(SMALL), font(FONT_SIZE, bold=True), font(20, bold=True)
    line_width = max(1, round(1.6 * scale))
    draw.text(at(MARGIN, 38), TITLE, fill=COLOURS["text"], font=title, anchor="ls")
    draw.text(at(MARGIN, 60), SUBTITLE, fill=COLOURS["muted"], font=small, anchor="ls")
    for edge in diagram.edges:
        points = [_bezier(edge.curve, i / 48) for i in range(49)]
        draw.line([at(p.x, p.y) for p in points], fill=edge.colour, width=line_width)
        tip = points[-1]
        before = next(p for p in reversed(points) if math.dist((p.x, p.y), (tip.x, tip.y)) > 4)
        angle = math.atan2(tip.y - before.y, tip.x - before.x)
        draw.polygon(
            [
                at(tip.x, tip.y),
                at(tip.x - 9 * math.cos(angle - 0.45), tip.y - 9 * math.sin(angle - 0.45)),
                at(tip.x - 9 * math.cos(angle + 0.45), tip.y - 9 * math.sin(angle + 0.45)),
            ],
            fill=edge.colour,
        )
    for node in diagram.nodes:
        fill = COLOURS["terminal"] if node.terminal else COLOURS["node"]
        stroke = COLOURS["terminal_stroke"] if node.terminal else COLOURS["node_stroke"]
        draw.rounded_rectangle(
            box(node.x, node.y, NODE_W, NODE_H),
            radius=10 * scale,
            fill=fill,
            outline=stroke,
            width=round((3 if node.terminal else 1.6) * scale),
        )
        c = node.centre
        suffix = " · définitif" if node.terminal else ""
        draw.text(at(c.x, c.y - 2), node.label, fill=COLOURS["text"], font=bold, anchor="ms")
        draw.text(
            at(c.x, c.y + 16),
            node.status.value + suffix,
            fill=COLOURS["muted"],
            font=small,
            anchor="ms",
        )
    for item in diagram.labels:
        x, y, bw, bh = item.box
        draw.rounded_rectangle(
            box(x, y, bw, bh), radius=4 * scale, fill="white", outline=item.colour
        )
        draw.text(
            at(item.at.x, y + 14), item.lines[0], fill=COLOURS["text"], font=bold, anchor="ms"
        )
        draw.text(
            at(item.at.x, y + 28), item.lines[1], fill=COLOURS["muted"], font=small, anchor="ms"
        )
    for note in diagram.notes:
        draw.rounded_rectangle(
            box(note.x, note.y, note.width, note.height),
            radius=6 * scale,
            fill=COLOURS["note"],
            outline=COLOURS["note_stroke"],
        )
        draw.text(
            at(note.x + 12, note.y + 22), note.title, fill=COLOURS["text"], font=bold, anchor="ls"
        )
        for index, line in enumerate(note.lines):
            draw.text(
                at(note.x + 12, note.y + 40 + LINE * index),
                line,
                fill=COLOURS["text"],
                font=small,
                anchor="ls",
            )
        for index, (colour, text) in enumerate(note.swatches):
            y = note.y + 40 + LINE * index
            draw.line(
                [at(note.x + 12, y - 4), at(note.x + 42, y - 4)],
                fill=colour,
                width=round(2.5 * scale),
            )
            draw.text(at(note.x + 50, y), text, fill=COLOURS["text"], font=small, anchor="ls")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


# --------------------------------------------------------------------------- entry points


def load_policy_file(path: Path | None = None) -> PolicyFile | None:
    """The MoU policy at ``path`` (default: the repository's draft, when present)."""
    from gateway.policy.loader import load_policy

    candidate = path if path is not None else DEFAULT_POLICY
    if not candidate.is_file():
        return None
    return load_policy(candidate).source


SVG_NAME = "diagramme-flux-orientation.svg"
PNG_NAME = "diagramme-flux-orientation.png"


def write_flow(directory: Path, policy: PolicyFile | None = None) -> list[Path]:
    """Write the diagram as SVG and PNG into ``directory``."""
    diagram = build_diagram(policy)
    directory.mkdir(parents=True, exist_ok=True)
    svg, png = directory / SVG_NAME, directory / PNG_NAME
    svg.write_text(render_svg(diagram), encoding="utf-8")
    png.write_bytes(render_png(diagram))
    return [svg, png]


def shown_in(svg: str) -> tuple[set[str], set[tuple[str, str, str]], set[str]]:
    """Statuses, (action, from, to) and texts that an SVG drawn here shows (for checks)."""
    from xml.etree import ElementTree

    root = ElementTree.fromstring(svg)  # noqa: S314 - our own output, not untrusted input
    ns = "{http://www.w3.org/2000/svg}"
    groups = list(root.iter(f"{ns}g"))
    states = {g.get("data-status", "") for g in groups if g.get("class") == "state"}
    moves = {
        (g.get("data-action", ""), g.get("data-from", ""), g.get("data-to", ""))
        for g in groups
        if g.get("class") == "transition" and g.get("data-from")
    }
    texts = {t.text or "" for t in root.iter(f"{ns}text")}
    return states, moves, texts
