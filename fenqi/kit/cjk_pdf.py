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
3. Per document: the font embedded holds exactly the glyphs the document uses, cut from the prepared
   font by taking their charstrings' bytes as they are (the font has no subroutines, so nothing needs to be
   interpreted): ~20 ms per weight, where fontTools' general subsetter — which fpdf2 calls, and which runs
   every charstring for its glyph closure and subroutine use, then compiles it again — takes ~60 ms from the
   prepared font and ~800 ms from the system one. fpdf2 is told to leave such a font as it is.

A character the prepared font lacks (a rare hanzi in a name) is not lost: `render` lays the document out
again with the full system font, subset by fontTools the old slow way. Without a prepared file the system
font is used that way too (still parsed once per process). The output depends only on the document and
the font files.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import fpdf.output
from fontTools import subset as ftsubset
from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

REPERTOIRE_VERSION = 1
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


class _Presubset(ttLib.TTFont):
    """A font already cut to its document's glyphs: fpdf2's subsetting leaves it as it is."""


class _Subsetter:
    def __init__(self, options: ftsubset.Options) -> None:
        self._real = ftsubset.Subsetter(options)

    def populate(self, **kwargs: Any) -> None:
        self._real.populate(**kwargs)

    def subset(self, font: ttLib.TTFont) -> None:
        if not isinstance(font, _Presubset):
            self._real.subset(font)


class _SubsetModule:
    """fontTools.subset as fpdf2's output uses it, with `_Subsetter` in place of the general subsetter."""

    Options = ftsubset.Options
    Subsetter = _Subsetter


fpdf.output.ftsubset = _SubsetModule


def _cut(data: bytes, names: Iterable[str]) -> _Presubset:
    """The prepared (desubroutinized, CID-keyed CFF) font reduced to `names`: charstrings, FDSelect and
    font dicts sliced as they are; no charstring is decompiled. Only what fpdf2 embeds is kept."""
    font = _Presubset(BytesIO(data), lazy=True, recalcBBoxes=False, recalcTimestamp=False)
    cff = font["CFF "].cff
    top = cff[cff.fontNames[0]]
    keep = set(names) | {".notdef"}
    indices = [i for i, name in enumerate(top.charset) if name in keep]
    index = top.CharStrings.charStringsIndex
    index.items = [index[i] for i in indices]
    for attr in ("file", "offsets"):
        if hasattr(index, attr):
            delattr(index, attr)
    select = top.FDSelect
    dicts = [select.gidArray[i] for i in indices]
    used = sorted(set(dicts))
    select.format = None
    select.gidArray = [used.index(d) for d in dicts]
    array = top.FDArray
    array.items = [array[i] for i in used]
    for attr in ("file", "offsets"):
        if hasattr(array, attr):
            delattr(array, attr)
    charset = [top.charset[i] for i in indices]
    top.CharStrings.charStrings = {name: n for n, name in enumerate(charset)}
    top.charset = charset
    top.numGlyphs = len(charset)
    for tag in list(font.keys()):
        if tag not in ("head", "hhea", "maxp", "OS/2", "name", "post", "CFF "):
            del font[tag]
    font.setGlyphOrder(charset)
    return font


@dataclass(slots=True)
class _Face:
    """One font face parsed once per process."""

    font: _CjkFont
    data: bytes | None  # the prepared file's bytes; None: the system font file itself
    path: Path
    index: int
    prepared: bool

    def open(self) -> ttLib.TTFont:
        if self.data is not None:
            return ttLib.TTFont(BytesIO(self.data), lazy=True, recalcBBoxes=False, recalcTimestamp=False)
        return ttLib.TTFont(self.path, fontNumber=self.index, lazy=True, recalcBBoxes=False,
                            recalcTimestamp=False)

    def for_document(self, glyphs: Iterable[str]) -> ttLib.TTFont:
        """The font file fpdf2 embeds for a document using `glyphs` (a font other than a CID-keyed CFF one,
        e.g. from FENQI_CJK_FONT, is left to fpdf2's general subsetter)."""
        if self.data is not None and self.font.is_cff and self.font.is_cid_keyed:
            return _cut(self.data, glyphs)
        return self.open()


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
            face = _Face(font, data, path, index, data is not None)
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
    font.ttfont = face.open()  # replaced by the document's cut at output; correct (slower) even if not
    font.subset = SubsetMap(font)
    doc.fonts[font.fontkey] = font
    if font.is_cff and font.is_cid_keyed:
        doc._set_min_pdf_version("1.6")


class CjkPDF(FPDF):
    """An FPDF whose CJK fonts come from the per-process cache (`add_cjk_font`) and embed cheap subsets."""

    _footer_written = 0

    def _render_footer(self) -> None:
        if self._footer_written != self.page:
            super()._render_footer()

    def add_cjk_font(self, family: str, path: Path, index: int, style: str = "", *, prepared: bool = True) -> None:
        _attach(self, _face(path, index, style, prepared), family, style)

    def cjk_fonts(self) -> list[_CjkFont]:
        return [font for font in self.fonts.values() if isinstance(font, _CjkFont)]

    def missing_characters(self) -> set[int]:
        return {code for font in self.cjk_fonts() for code in font.missing_glyphs}

    def output(self, *args: Any, **kwargs: Any) -> Any:
        # fpdf2 writes the last page's footer inside output(): written here first, so that its characters
        # are in the glyph set the fonts are cut to (a one-page document's footer may use new ones).
        if not self.buffer:
            if self.page == 0:
                self.add_page()
            self._render_footer()
            self._footer_written = self.page
        for font in self.cjk_fonts():
            font.ttfont.close()
            font.ttfont = font.face.for_document(font.subset.get_all_glyph_names())
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
