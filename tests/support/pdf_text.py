"""Read the text back out of an uncompressed PDF written by fpdf2 with embedded TrueType
fonts (no PDF reader is installed): follow each font's ToUnicode map and decode the
glyph ids of every `Tj` string. Enough for our own PDFs, not a general reader."""

from __future__ import annotations

import re

_OBJECT = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
_FONT_REF = re.compile(rb"/F(\d+) (\d+) 0 R")
_TO_UNICODE = re.compile(rb"/ToUnicode (\d+) 0 R")
_BFCHAR = re.compile(rb"<([0-9A-Fa-f]{4})> <([0-9A-Fa-f]+)>")
_TEXT_OP = re.compile(rb"/F(\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(raw: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(raw):
        ch = raw[i : i + 1]
        if ch != b"\\":
            out += ch
            i += 1
            continue
        nxt = raw[i + 1 : i + 2]
        if nxt.isdigit():
            digits = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
            assert digits is not None
            out.append(int(digits.group(0), 8))
            i += 1 + len(digits.group(0))
        else:
            out += _ESCAPES.get(nxt, nxt)
            i += 2
    return bytes(out)


def pdf_text(data: bytes) -> str:
    objects = {int(m.group(1)): m.group(2) for m in _OBJECT.finditer(data)}
    maps: dict[int, dict[int, str]] = {}
    for body in objects.values():
        if b"/Font" not in body:
            continue
        for font_no, obj in _FONT_REF.findall(body):
            to_unicode = _TO_UNICODE.search(objects.get(int(obj), b""))
            if to_unicode is None:
                continue
            cmap = objects[int(to_unicode.group(1))]
            maps[int(font_no)] = {
                int(glyph, 16): bytes.fromhex(code.decode()).decode("utf-16-be")
                for glyph, code in _BFCHAR.findall(cmap)
            }
    text: list[str] = []
    font: dict[int, str] = {}
    for body in objects.values():
        if b"stream" not in body or b" Tj" not in body:
            continue
        for match in _TEXT_OP.finditer(body):
            if match.group(1) is not None:
                font = maps.get(int(match.group(1)), {})
                continue
            raw = _unescape(match.group(2))
            glyphs = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
            text.append("".join(font.get(g, "?") for g in glyphs))
        text.append("\n")
    return " ".join(" ".join(text).split())
