"""A small PDF writer for vigie's tests: just enough of PDF 1.7 to plant text where
real producers put it. Pages of text in a standard 14 font (WinAnsi), content
streams plain or Flate-compressed, a composite font whose codes only a ToUnicode
CMap turns into text (as LibreOffice and Word write subset fonts), a Japanese font
read through a predefined CMap of poppler-data (UniJIS-UCS2-H), document info,
annotations and embedded files. Offsets in the xref table are exact, so poppler
opens the files without reconstructing anything.

Standard library only; encryption is left to qpdf (see test_pdf.py)."""

import zlib


def _lit(s):
    """A PDF literal string from text (WinAnsi for the Latin-1 range)."""
    b = s.encode("cp1252") if isinstance(s, str) else s
    b = b.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + b.replace(b"\r", b"\\r").replace(b"\n", b"\\n") + b")"


def _utf16(s):
    """A text string outside the content streams (info, annotations): UTF-16BE."""
    return b"<FEFF" + s.encode("utf-16-be").hex().upper().encode() + b">"


class Pdf:
    def __init__(self):
        self.objs = []

    def reserve(self):
        self.objs.append(None)
        return len(self.objs)

    def set(self, num, body):
        self.objs[num - 1] = body if isinstance(body, bytes) else body.encode("latin-1")

    def add(self, body):
        n = self.reserve()
        self.set(n, body)
        return n

    def stream(self, entries, data, flate=False):
        if flate:
            data = zlib.compress(data, 9)
            entries = entries + b" /Filter /FlateDecode"
        return self.add(b"<< " + entries + b" /Length %d >>\nstream\n" % len(data) + data +
                        b"\nendstream")

    def build(self, root, info=None):
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for i, body in enumerate(self.objs):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % (i + 1) + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(self.objs) + 1)
        for off in offsets:
            out += b"%010d 00000 n \n" % off
        out += b"trailer\n<< /Size %d /Root %d 0 R" % (len(self.objs) + 1, root)
        if info:
            out += b" /Info %d 0 R" % info
        out += b" /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]"
        out += b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
        return bytes(out)


    def build_compact(self, root, info=None):
        """The same document as PDF 1.5 writers lay it out: every object that is
        not a stream inside one object stream, and a cross-reference stream (W
        [1 4 2], Flate with the PNG Up predictor) instead of the xref table."""
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        loose = [i for i, b in enumerate(self.objs) if b"stream\n" in b]
        packed = [i for i, b in enumerate(self.objs) if b"stream\n" not in b]
        where = {}
        for i in loose:
            where[i + 1] = (1, len(out), 0)
            out += b"%d 0 obj\n" % (i + 1) + self.objs[i] + b"\nendobj\n"
        stm = len(self.objs) + 1
        head, body = [], bytearray()
        for k, i in enumerate(packed):
            head.append(b"%d %d" % (i + 1, len(body)))
            where[i + 1] = (2, stm, k)
            body += self.objs[i] + b"\n"
        head = b" ".join(head) + b"\n"
        data = zlib.compress(head + bytes(body))
        where[stm] = (1, len(out), 0)
        out += (b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\n"
                b"stream\n" % (stm, len(packed), len(head), len(data)) + data + b"\nendstream\nendobj\n")
        xref = stm + 1
        where[xref] = (1, len(out), 0)
        rows, prev = bytearray(), bytes(7)
        for n in range(xref + 1):
            t, a, b = where.get(n, (0, 0, 65535 if n == 0 else 0))
            row = bytes([t]) + a.to_bytes(4, "big") + b.to_bytes(2, "big")
            rows += b"\x02" + bytes((r - q) & 0xFF for r, q in zip(row, prev))
            prev = row
        data = zlib.compress(bytes(rows))
        trailer = b"/Root %d 0 R" % root + (b" /Info %d 0 R" % info if info else b"")
        out += (b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] %s /Filter /FlateDecode "
                b"/DecodeParms << /Predictor 12 /Columns 7 >> /Length %d >>\nstream\n"
                % (xref, xref + 1, trailer, len(data)) + data + b"\nendstream\nendobj\n")
        out += b"startxref\n%d\n%%%%EOF\n" % where[xref][1]
        return bytes(out)


class Font:
    """How a font writes a run of text into a content stream."""

    def show(self, text):
        raise NotImplementedError


class Standard(Font):
    """Helvetica, one of the standard 14 fonts: no font program, WinAnsi codes."""

    def __init__(self, doc):
        self.ref = doc.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                           b"/Encoding /WinAnsiEncoding >>")

    def show(self, text):
        return _lit(text) + b" Tj"


class ToUnicode(Font):
    """A composite (Type0, Identity-H) font whose 2-byte codes are scrambled: the
    bytes of the content stream say nothing, only the ToUnicode CMap gives the
    text. No font program is embedded: text extraction does not need one."""

    def __init__(self, doc, alphabet):
        chars = sorted(set(alphabet))
        # codes in a scrambled order, far from the characters' own code points
        self.code = {c: 0x0400 + ((i * 37) % 251) for i, c in enumerate(chars)}
        cmap = [b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
                b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
                b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
                b"1 begincodespacerange <0000> <FFFF> endcodespacerange",
                b"%d beginbfchar" % len(chars)]
        for c in chars:
            cmap.append(b"<%04X> <%s>" % (self.code[c], c.encode("utf-16-be").hex().upper().encode()))
        cmap += [b"endbfchar", b"endcmap CMapName currentdict /CMap defineresource pop end end"]
        tounicode = doc.stream(b"", b"\n".join(cmap) + b"\n", flate=True)
        desc = doc.add(b"<< /Type /FontDescriptor /FontName /AAAAAA+Carlito /Flags 32 "
                       b"/FontBBox [0 -250 1000 750] /ItalicAngle 0 /Ascent 750 /Descent -250 "
                       b"/CapHeight 700 /StemV 80 >>")
        cid = doc.add(b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /AAAAAA+Carlito "
                      b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
                      b"/FontDescriptor %d 0 R /DW 500 /CIDToGIDMap /Identity >>" % desc)
        self.ref = doc.add(b"<< /Type /Font /Subtype /Type0 /BaseFont /AAAAAA+Carlito "
                           b"/Encoding /Identity-H /DescendantFonts [%d 0 R] "
                           b"/ToUnicode %d 0 R >>" % (cid, tounicode))

    def show(self, text):
        return b"<" + b"".join(b"%04X" % self.code[c] for c in text) + b"> Tj"


class Japanese(Font):
    """A Japanese font as older producers write it: no ToUnicode, a predefined CMap
    (UniJIS-UCS2-H) that poppler reads from poppler-data, then the Adobe-Japan1
    collection's CID-to-Unicode table (poppler-data again)."""

    def __init__(self, doc):
        desc = doc.add(b"<< /Type /FontDescriptor /FontName /KozMinPro-Regular /Flags 6 "
                       b"/FontBBox [-195 -272 1110 1075] /ItalicAngle 0 /Ascent 880 "
                       b"/Descent -120 /CapHeight 740 /StemV 86 >>")
        cid = doc.add(b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /KozMinPro-Regular "
                      b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1) /Supplement 4 >> "
                      b"/FontDescriptor %d 0 R /DW 1000 /W [1 632 500] >>" % desc)
        self.ref = doc.add(b"<< /Type /Font /Subtype /Type0 /BaseFont /KozMinPro-Regular-UniJIS-UCS2-H "
                           b"/Encoding /UniJIS-UCS2-H /DescendantFonts [%d 0 R] >>" % cid)

    def show(self, text):
        return b"<" + text.encode("utf-16-be").hex().upper().encode() + b"> Tj"


def page_content(lines, fonts):
    """lines: a list of runs, each run a list of (font name, text) shown one after
    the other on the same line (so one identifier may be split across several
    text-showing operators, as word processors do), or a bare string."""
    out = [b"BT", b"14 TL", b"72 760 Td"]
    for line in lines:
        runs = [("F1", line)] if isinstance(line, str) else line
        for fname, text in runs:
            if isinstance(text, bytes):  # raw operators (e.g. a TJ array)
                out.append(b"/%s 11 Tf " % fname.encode() + text)
            else:
                out.append(b"/%s 11 Tf " % fname.encode() + fonts[fname].show(text))
        out.append(b"T*")
    out.append(b"ET")
    return b"\n".join(out) + b"\n"


def _filespec(doc, fname, data):
    ef = doc.stream(b"/Type /EmbeddedFile /Params << /Size %d >>" % len(data), data, flate=True)
    return doc.add(b"<< /Type /Filespec /F " + _lit(fname) + b" /UF " + _utf16(fname) +
                   b" /EF << /F %d 0 R >> >>" % ef)


def document(pages, flate=False, info=None, fonts=None, annots=None, attachments=None,
             content=None, annot_files=None, compact=False):
    """A whole PDF. pages: a list of pages, each a list of lines (see page_content).
    fonts: extra fonts by resource name (F1 is Helvetica). info: a dict of Title,
    Author, Subject, Keywords. annots: {page index: [text of a note]}. attachments:
    [(file name, bytes)]. content: {page index: raw content stream bytes} to
    replace the generated one (for streams built by the test). annot_files: {page
    index: [(file name, bytes)]} attached to the page by file-attachment annotations.
    compact: object streams and a cross-reference stream (PDF 1.5) instead of a
    cross-reference table."""
    doc = Pdf()
    catalog = doc.reserve()
    pages_ref = doc.reserve()
    all_fonts = {"F1": Standard(doc)}
    for name, make in (fonts or {}).items():
        all_fonts[name] = make(doc)
    font_dict = b" ".join(b"/%s %d 0 R" % (n.encode(), f.ref) for n, f in all_fonts.items())
    kids = []
    for i, lines in enumerate(pages):
        data = (content or {}).get(i)
        if data is None:
            data = page_content(lines, all_fonts)
        stream = doc.stream(b"", data, flate=flate)
        extra = b""
        refs = [doc.add(b"<< /Type /Annot /Subtype /Text /Rect [100 100 120 120] "
                        b"/Contents " + _utf16(t) + b" /T (Relecteur) >>")
                for t in (annots or {}).get(i, [])]
        refs += [doc.add(b"<< /Type /Annot /Subtype /FileAttachment /Rect [130 100 150 120] "
                         b"/FS %d 0 R /Name /Paperclip >>" % _filespec(doc, fname, data))
                 for fname, data in (annot_files or {}).get(i, [])]
        if refs:
            extra = b" /Annots [" + b" ".join(b"%d 0 R" % r for r in refs) + b"]"
        kids.append(doc.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] "
                            b"/Resources << /Font << %s >> >> /Contents %d 0 R%s >>"
                            % (pages_ref, font_dict, stream, extra)))
    doc.set(pages_ref, b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids) +
            b"] /Count %d >>" % len(kids))
    names = b""
    if attachments:
        specs = []
        for fname, data in attachments:
            specs.append(_lit(fname) + b" %d 0 R" % _filespec(doc, fname, data))
        names = b" /Names << /EmbeddedFiles << /Names [" + b" ".join(specs) + b"] >> >>"
    doc.set(catalog, b"<< /Type /Catalog /Pages %d 0 R%s >>" % (pages_ref, names))
    info_ref = None
    if info:
        info_ref = doc.add(b"<< " + b" ".join(b"/%s %s" % (k.encode(), _utf16(v))
                                                for k, v in info.items()) + b" >>")
    return doc.build_compact(catalog, info_ref) if compact else doc.build(catalog, info_ref)
