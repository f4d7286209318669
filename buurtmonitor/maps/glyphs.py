"""Font glyphs for the area names on a plotly map, made here so the names need no internet.

plotly's map (MapLibre) draws text only with signed-distance-field glyphs in the protobuf
format of the MapLibre style spec, fetched from the style's ``glyphs`` URL. plotly's own
offline style (``white-bg``) points at fonts.openmaptiles.org, so without internet a name
layer draws nothing. :func:`glyphs_url` gives a ``data:`` URL with the glyphs of exactly the
characters of Dutch area names (:data:`CHARACTERS`, in range 0-255), rendered from
the DejaVu font the PDF pack uses. The ``{fontstack}``/``{range}`` tokens the style spec
requires sit in the URL fragment, which a fetch of a ``data:`` URL ignores: every range asks
for the same bytes, and characters outside them are left out (never a failed request).

Pure functions; the font file is read once.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path

import numpy as np

#: the font stack name the name layer asks for (``textfont.family`` of the trace)
FONT_STACK = "DejaVu Sans Bold"
_FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
               "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf")
_SIZE, _BUFFER, _RADIUS, _CUTOFF = 24, 3, 8.0, 0.25
#: MapLibre places a glyph's ``top`` relative to this line above the baseline
_TOP_OFFSET = 26
#: the characters every map carries: printable ASCII and the accented letters of Dutch (and
#: of the Frisian and other names CBS uses). One set for every map keeps the style the same
#: between maps, so a map that is updated (plotly.react) never has to swap its glyphs.
CHARACTERS = "".join(chr(c) for c in range(32, 127)) + "áàâäéèêëíìîïóòôöúùûüýÿçñÁÀÂÄÉÈÊËÍÌÎÏÓÒÔÖÚÙÛÜÇÑ–·’"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _bytes(number: int, data: bytes) -> bytes:
    return _field(number, 2) + _varint(len(data)) + data


def _uint(number: int, value: int) -> bytes:
    return _field(number, 0) + _varint(value)


def _sint(number: int, value: int) -> bytes:
    return _field(number, 0) + _varint((value << 1) ^ (value >> 31))


def _font_path() -> str | None:
    extra: tuple[str, ...]
    try:
        import matplotlib

        extra = (str(Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"),)
    except Exception:  # noqa: BLE001 - matplotlib is optional here
        extra = ()
    return next((p for p in _FONT_FILES + extra if Path(p).is_file()), None)


@lru_cache(maxsize=1)
def _font():
    path = _font_path()
    if path is None:
        return None
    from PIL import ImageFont

    return ImageFont.truetype(path, _SIZE)


@lru_cache(maxsize=512)
def _glyph(ch: str) -> bytes:
    """One ``glyph`` message: id, SDF bitmap (with a 3 px buffer), metrics."""
    from PIL import Image, ImageDraw
    from scipy import ndimage

    font = _font()
    advance = round(font.getlength(ch))
    x0, y0, x1, y1 = (int(v) for v in font.getbbox(ch, anchor="ls"))
    w, h = max(0, x1 - x0), max(0, y1 - y0)
    msg = _uint(1, ord(ch))
    if w and h:
        img = Image.new("L", (w + 2 * _BUFFER, h + 2 * _BUFFER), 0)
        ImageDraw.Draw(img).text((_BUFFER - x0, _BUFFER - y0), ch, font=font, fill=255, anchor="ls")
        inside = np.asarray(img, dtype=np.uint8) > 127
        distance = ndimage.distance_transform_edt(~inside) - ndimage.distance_transform_edt(inside)
        sdf = np.clip(np.round(255 - 255 * (distance / _RADIUS + _CUTOFF)), 0, 255).astype(np.uint8)
        msg += _bytes(2, sdf.tobytes())
    return msg + _uint(3, w) + _uint(4, h) + _sint(5, x0) + _sint(6, (-y0 - _TOP_OFFSET) if h else 0) \
        + _uint(7, advance)


def glyphs_pbf(text: str) -> bytes:
    """The glyphs (range 0-255) of the characters of ``text``; empty when there is no font."""
    if _font() is None:
        return b""
    stack = _bytes(1, FONT_STACK.encode()) + _bytes(2, b"0-255")
    for ch in sorted({c for c in text if 32 <= ord(c) < 256}):
        stack += _bytes(3, _glyph(ch))
    return _bytes(1, stack)


@lru_cache(maxsize=1)
def glyphs_url() -> str | None:
    """A ``data:`` URL for a MapLibre style's ``glyphs`` with :data:`CHARACTERS` (a name with
    another character is drawn without it); None without a font."""
    pbf = glyphs_pbf(CHARACTERS)
    if not pbf:
        return None
    return ("data:application/x-protobuf;base64," + base64.b64encode(pbf).decode("ascii")
            + "#{fontstack}/{range}")
