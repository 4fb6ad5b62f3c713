"""A Unicode TrueType font for the PNG and PDF renderers (French accents, « », –, œ).

Debian's ``fonts-dejavu-core`` is the expected source; Liberation and Noto are accepted too.
Without any of them the PNG falls back to Pillow's built-in font and the PDF to its core
fonts (Latin-1 only, see ``gateway.forms.printable``).
"""

from __future__ import annotations

from pathlib import Path

_FONT_DIRS = (Path("/usr/share/fonts/truetype"), Path("/usr/share/fonts"))
_CANDIDATES = {
    False: (
        "dejavu/DejaVuSans.ttf",
        "liberation/LiberationSans-Regular.ttf",
        "noto/NotoSans-Regular.ttf",
    ),
    True: (
        "dejavu/DejaVuSans-Bold.ttf",
        "liberation/LiberationSans-Bold.ttf",
        "noto/NotoSans-Bold.ttf",
    ),
}


def font_path(*, bold: bool = False) -> Path | None:
    """The first installed candidate font, or ``None``."""
    for directory in _FONT_DIRS:
        for name in _CANDIDATES[bold]:
            path = directory / name
            if path.is_file():
                return path
    return None
