"""Chinese text in PDFs (fpdf2 + Noto Sans CJK SC) without paying for the 20 MB font on every document.

The work on the font is done as rarely as it can be:

1. At install time (`fenqi prepare-fonts`, run by `make install`): each weight's SC face of the Debian
   fonts-noto-cjk collection is cut down to the characters Chinese documents use — ASCII and Latin-1,
   general and CJK punctuation, full-width forms and the 6,763 hanzi of GB 2312 — and written as one
   ~1.8 MB OpenType file (desubroutinized, so later subsets need no subroutine analysis) under
   `FENQI_FONT_CACHE` (default: `share/fenqi/fonts` in the virtualenv). It is derived from the font files
   on this machine, never downloaded.
2. Once per process: that file is parsed (character map, widths, metrics) into one fpdf2 font object that
   every document shares; a document gets a cheap copy with its own map of used glyphs.
3. Per document: fpdf2 still embeds a subset of exactly the glyphs the document uses, but cuts it from a
   small intermediate font — the document's glyphs plus the caller's base characters (the template's own
   text) — kept per process by the glyphs outside the base, so a contract like an earlier one (the same
   store, goods and shopper surname) subsets a few hundred glyphs, not thousands.

A character the prepared font lacks (a rare hanzi in a name) is not lost: `render` lays the document out
again with the full system font, the old slow way. Without a prepared file the system font is used
directly (still parsed once per process). The output depends only on the document and the font files.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from fontTools import subset as ftsubset
from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

REPERTOIRE_VERSION = 1
_INTERMEDIATES = 256  # intermediate fonts kept per process per face (each a few tens of KiB)
_DROPPED = ["GDEF", "GPOS", "GSUB", "BASE", "JSTF", "vhea", "vmtx", "VORG", "DSIG", "FFTM", "meta"]


def repertoire() -> set[int]:
    """The characters the prepared font keeps: Latin, punctuation, CJK symbols, full-width forms, GB 2312."""
    chars = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) | set(range(0x2000, 0x2070))
    chars |= set(range(0x2100, 0x2200)) | set(range(0x2460, 0x24A0)) | set(range(0x3000, 0x3040))
    chars |= set(range(0xFF00, 0xFFF0))
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes((hi, lo)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return chars


def prepared_dir() -> Path:
    return Path(os.environ.get("FENQI_FONT_CACHE") or Path(sys.prefix) / "share" / "fenqi" / "fonts")


def prepared_path(source: Path, index: int) -> Path:
    """Where the prepared cut of this face lives; its name changes with the source file and the repertoire."""
    stat = source.stat()
    key = f"{source.resolve()}|{stat.st_size}|{int(stat.st_mtime)}|{index}|{REPERTOIRE_VERSION}"
    return prepared_dir() / f"{source.stem}-{index}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.otf"


def prepare(source: Path, index: int) -> Path:
    """Write the prepared cut of one face (seconds of CPU; once per install). Idempotent."""
    target = prepared_path(source, index)
    if target.is_file():
        return target
    font = ttLib.TTFont(source, fontNumber=index, lazy=True, recalcTimestamp=False)
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True, layout_features=[],
                               desubroutinize=True, name_IDs=["*"], name_languages=["*"])
    options.drop_tables += _DROPPED
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(unicodes=repertoire())
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.part")
    font.save(partial)
    partial.replace(target)
    return target


class _CjkFont(TTFFont):
    """An fpdf2 font whose parsed tables are shared; `face` knows where to cut each document's subset."""

    __slots__ = ("face",)
    face: _Face


@dataclass(slots=True)
class _Face:
    """One font face parsed once per process, with its intermediate subsets."""

    font: _CjkFont
    data: bytes | None  # the prepared file's bytes; None: cut from the system font file itself
    path: Path
    index: int
    prepared: bool
    intermediates: OrderedDict[frozenset[str], bytes]
    lock: threading.Lock
    known: frozenset[str]  # the glyph names the source font has

    def open(self) -> ttLib.TTFont:
        source: Any = BytesIO(self.data) if self.data is not None else self.path
        return ttLib.TTFont(source, fontNumber=-1 if self.data is not None else self.index, lazy=True,
                            recalcBBoxes=False,
                            recalcTimestamp=False)

    def intermediate(self, glyphs: frozenset[str], base: frozenset[str]) -> ttLib.TTFont:
        key = glyphs - base
        with self.lock:
            data = self.intermediates.get(key)
            if data is not None:
                self.intermediates.move_to_end(key)
        if data is None:
            font = self.open()
            options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True, layout_features=[])
            options.drop_tables += _DROPPED
            subsetter = ftsubset.Subsetter(options)
            subsetter.populate(glyphs=sorted((glyphs | base) & self.known))
            subsetter.subset(font)
            out = BytesIO()
            font.save(out)
            data = out.getvalue()
            with self.lock:
                self.intermediates[key] = data
                while len(self.intermediates) > _INTERMEDIATES:
                    self.intermediates.popitem(last=False)
        return ttLib.TTFont(BytesIO(data), lazy=True, recalcTimestamp=False, recalcBBoxes=False)


_faces: dict[tuple[Path, int, str, bool], _Face] = {}
_faces_lock = threading.Lock()


def _face(path: Path, index: int, style: str, prepared: bool) -> _Face:
    key = (path, index, style, prepared)
    with _faces_lock:
        face = _faces.get(key)
        if face is None:
            ready = prepared_path(path, index) if prepared else None
            data = ready.read_bytes() if ready is not None and ready.is_file() else None
            file = ready if data is not None and ready is not None else path
            scratch = FPDF()
            scratch.render_color_fonts = False
            font = _CjkFont(scratch, file, "shared", style, collection_font_number=0 if data else index)
            face = _Face(font, data, path, index, data is not None, OrderedDict(), threading.Lock(),
                         frozenset(font.cmap.values()) | {".notdef"})
            _faces[key] = face
        return face


def _attach(doc: FPDF, face: _Face, family: str, style: str) -> None:
    """A per-document copy of the shared font: shared tables, own glyph map, own (lazy) font file."""
    shared = face.font
    font = _CjkFont.__new__(_CjkFont)
    for name in ("type", "ttffile", "scale", "name", "up", "ut", "sp", "ss", "emphasis", "is_compressed",
                 "is_cff", "is_cid_keyed", "is_symbol", "cff_ros", "collection_font_number", "cmap", "desc",
                 "glyph_ids", "palette_index", "color_font", "unicode_range"):
        if hasattr(shared, name):
            setattr(font, name, getattr(shared, name))
    font.face = face
    font.fontkey = f"{family.lower()}{style}"
    font.i = len(doc.fonts) + 1
    font.cw = shared.cw.copy()
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    font.ttfont = face.open()  # replaced by a small intermediate at output; correct (slower) even if not
    font.subset = SubsetMap(font)
    doc.fonts[font.fontkey] = font
    if font.is_cff and font.is_cid_keyed:
        doc._set_min_pdf_version("1.6")


class CjkPDF(FPDF):
    """An FPDF whose CJK fonts come from the per-process cache (`add_cjk_font`) and embed cheap subsets."""

    base_text = ""  # characters (nearly) every document of this kind uses: the template's own text

    def add_cjk_font(self, family: str, path: Path, index: int, style: str = "", *, prepared: bool = True) -> None:
        _attach(self, _face(path, index, style, prepared), family, style)

    def cjk_fonts(self) -> list[_CjkFont]:
        return [font for font in self.fonts.values() if isinstance(font, _CjkFont)]

    def missing_characters(self) -> set[int]:
        return {code for font in self.cjk_fonts() for code in font.missing_glyphs}

    def output(self, *args: Any, **kwargs: Any) -> Any:
        base_chars = set(self.base_text) | {chr(c) for c in range(0x20, 0x7F)}
        for font in self.cjk_fonts():
            glyphs = frozenset(font.subset.get_all_glyph_names())
            base = frozenset(font.cmap[ord(c)] for c in base_chars if ord(c) in font.cmap)
            font.ttfont.close()
            font.ttfont = font.face.intermediate(glyphs, base)
        return super().output(*args, **kwargs)


def render(make: Callable[[bool], CjkPDF], fill: Callable[[CjkPDF], None]) -> bytes:
    """Lay a document out with the prepared fonts; again with the full system fonts if it needs a character
    they lack. `make(prepared)` builds the empty document with its fonts, `fill(doc)` writes it."""
    doc = make(True)
    fill(doc)
    if doc.missing_characters() and any(font.face.prepared for font in doc.cjk_fonts()):
        doc = make(False)
        fill(doc)
    return bytes(doc.output())


def prepare_all(sources: Iterable[tuple[Path, int]]) -> list[Path]:
    return [prepare(path, index) for path, index in sources]
