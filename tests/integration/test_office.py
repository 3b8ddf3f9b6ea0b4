"""Office documents, RTF and HTML through `vigiectl scan --json`.

Fixtures are written here the way word processors write them: OOXML packages
([Content_Types].xml, relationships, runs with properties, proof marks and
bookmarks between runs) and OpenDocument packages (mimetype first and stored,
manifest, content.xml and styles.xml). Each planted identifier must be found
where it was put, with the `where` of the document itself; hard negatives (a
wrong check digit split across runs, digits in separate cells or paragraphs
that would form an identifier only if joined) must not be found; entity bombs
and external entities make the document unscannable (`corrupt`), quickly.

`where` of embedded objects is the document, then the part's path inside the
package: `rapport.docx/word/embeddings/Feuille.xlsx`.

tests/integration/office/ holds a few files saved by LibreOffice 7.4 (see
tests/tools/make_office_fixtures.py); their identifiers come from fixed seeds."""

import io
import json
import os
import time
import zipfile

from common import args, check, finish, no_leak, scratch, vgfix

a = args()
tmp = scratch("office")
rng = vgfix.rng(77)
vigiectl = os.path.join(a.build, "vigiectl")
planted = []


def new_iban():
    v = vgfix.french_iban(rng)
    planted.append(v)
    return v


def new_nir():
    v = vgfix.nir(rng)
    planted.append(v)
    return v


def bad_iban():
    """A French IBAN whose check digits are wrong: never a finding."""
    v = vgfix.french_iban(rng)
    b = v[:2] + "%02d" % ((int(v[2:4]) + 1) % 100) + v[4:]
    assert not vgfix.iban_valid(b)
    planted.append(b)
    return b


def put(name, data):
    p = os.path.join(tmp, name)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    return p


def xesc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------- OOXML

CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
W = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
     'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
     'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
     'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
     'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
     'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" mc:Ignorable="w14"')
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'


def w_runs(text, cuts=()):
    """One paragraph's runs, cut at the given offsets, as Word writes them
    (revision ids, properties, proof marks and bookmarks between runs)."""
    pieces, last = [], 0
    for c in list(cuts) + [len(text)]:
        pieces.append(text[last:c])
        last = c
    out = []
    for i, p in enumerate(pieces):
        rpr = "<w:rPr><w:b/><w:lang w:val=\"fr-FR\"/></w:rPr>" if i % 2 else \
              "<w:rPr><w:rFonts w:ascii=\"Calibri\"/><w:sz w:val=\"22\"/></w:rPr>"
        out.append('<w:r w:rsidR="00A1%02d">%s<w:t xml:space="preserve">%s</w:t></w:r>'
                   % (i, rpr, xesc(p)))
        if i == 0:
            out.append('<w:proofErr w:type="spellStart"/>')
        elif i == 1:
            out.append('<w:bookmarkStart w:id="0" w:name="_GoBack"/><w:bookmarkEnd w:id="0"/>')
    return "".join(out)


def w_p(text, cuts=()):
    return ('<w:p w14:paraId="1A2B3C4D" w:rsidR="00C0FFEE"><w:pPr><w:pStyle w:val="Normal"/></w:pPr>'
            '%s</w:p>' % w_runs(text, cuts))


def w_table(rows):
    return ("<w:tbl><w:tblPr><w:tblW w:w=\"0\" w:type=\"auto\"/></w:tblPr>" +
            "".join("<w:tr>" + "".join("<w:tc><w:tcPr><w:tcW w:w=\"2000\"/></w:tcPr>%s</w:tc>"
                                       % w_p(c) for c in r) + "</w:tr>" for r in rows) +
            "</w:tbl>")


def docx(body, header=None, footer=None, footnotes=None, endnotes=None, comments=None,
         title=None, extra=(), macro=False, ct_last=False, stream=False, embeddings=()):
    """A WordprocessingML package. body: XML of <w:body> content."""
    rels, overrides = [], []
    parts = []

    def part(name, ctype, rtype, xml):
        rid = "rId%d" % (len(rels) + 1)
        rels.append('<Relationship Id="%s" Type="%s/%s" Target="%s"/>' % (rid, RT, rtype, name))
        overrides.append('<Override PartName="/word/%s" ContentType="%s"/>' % (name, ctype))
        parts.append(("word/" + name, XML_DECL + xml))
        return rid

    ns = "application/vnd.openxmlformats-officedocument.wordprocessingml."
    part("styles.xml", ns + "styles+xml", "styles",
         '<w:styles %s><w:style w:type="paragraph" w:styleId="Normal"><w:name w:val="Normal"/>'
         '</w:style></w:styles>' % W)
    sect = ""
    if header is not None:
        rid = part("header1.xml", ns + "header+xml", "header",
                   "<w:hdr %s>%s</w:hdr>" % (W, header))
        sect += '<w:headerReference w:type="default" r:id="%s"/>' % rid
    if footer is not None:
        rid = part("footer1.xml", ns + "footer+xml", "footer",
                   "<w:ftr %s>%s</w:ftr>" % (W, footer))
        sect += '<w:footerReference w:type="default" r:id="%s"/>' % rid
    if footnotes is not None:
        part("footnotes.xml", ns + "footnotes+xml", "footnotes",
             '<w:footnotes %s><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/>'
             '</w:r></w:p></w:footnote><w:footnote w:id="1">%s</w:footnote></w:footnotes>'
             % (W, footnotes))
    if endnotes is not None:
        part("endnotes.xml", ns + "endnotes+xml", "endnotes",
             '<w:endnotes %s><w:endnote w:id="1">%s</w:endnote></w:endnotes>' % (W, endnotes))
    if comments is not None:
        part("comments.xml", ns + "comments+xml", "comments",
             '<w:comments %s><w:comment w:id="0" w:author="Claire Martin" w:date="2024-03-01T10:00:00Z"'
             ' w:initials="CM">%s</w:comment></w:comments>' % (W, comments))
    for i, (name, data) in enumerate(embeddings):
        rid = "rId%d" % (len(rels) + 1)
        rels.append('<Relationship Id="%s" Type="%s/package" Target="embeddings/%s"/>'
                    % (rid, RT, name))
        parts.append(("word/embeddings/" + name, data))
    main = ns + "document.main+xml"
    if macro:
        main = "application/vnd.ms-word.document.macroEnabled.main+xml"
        rels.append('<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/'
                    'relationships/vbaProject" Target="vbaProject.bin"/>')
        parts.append(("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)))
    doc = ('<w:document %s><w:body>%s<w:sectPr>%s<w:pgSz w:w="11906" w:h="16838"/></w:sectPr>'
           '</w:body></w:document>' % (W, body, sect))
    core = ('<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://'
            'purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<dc:title>%s</dc:title><dc:creator>Claire Martin</dc:creator>'
            '<dcterms:created xsi:type="dcterms:W3CDTF">2024-03-01T10:00:00Z</dcterms:created>'
            '</cp:coreProperties>' % xesc(title or "Contrat"))
    ct = (XML_DECL + '<Types xmlns="%s"><Default Extension="rels" ContentType="application/'
          'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
          '"application/xml"/><Default Extension="bin" ContentType="application/vnd.ms-office.'
          'vbaProject"/><Default Extension="xlsx" ContentType="application/vnd.openxmlformats-'
          'officedocument.spreadsheetml.sheet"/><Override PartName="/word/document.xml" '
          'ContentType="%s"/>%s<Override PartName="/docProps/core.xml" ContentType="application/'
          'vnd.openxmlformats-package.core-properties+xml"/></Types>'
          % (CT_NS, main, "".join(overrides)))
    top_rels = (XML_DECL + '<Relationships xmlns="%s"><Relationship Id="rId1" Type="%s/'
                'officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://'
                'schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
                'Target="docProps/core.xml"/></Relationships>' % (REL_NS, RT))
    doc_rels = XML_DECL + '<Relationships xmlns="%s">%s</Relationships>' % (REL_NS, "".join(rels))
    members = [("_rels/.rels", top_rels), ("word/document.xml", XML_DECL + doc),
               ("word/_rels/document.xml.rels", doc_rels)] + parts + \
              [("docProps/core.xml", XML_DECL + core)] + list(extra)
    if ct_last:  # LibreOffice's order
        members.append(("[Content_Types].xml", ct))
    else:  # Word's order
        members.insert(0, ("[Content_Types].xml", ct))
    return zip_members(members, stream=stream)


class _Unseekable(io.RawIOBase):
    """A sink zipfile cannot seek in: it writes data descriptors, as
    streaming generators do (libmagic cannot walk such a zip)."""

    def __init__(self):
        self.buf = bytearray()

    def writable(self):
        return True

    def write(self, b):
        self.buf += b
        return len(b)


def zip_members(members, stream=False):
    sink = _Unseekable() if stream else io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            if name == "mimetype":
                z.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_STORED)
            else:
                z.writestr(name, data)
    return bytes(sink.buf) if stream else sink.getvalue()


S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ' \
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def xlsx(sheets, shared, header=None, macro=False):
    """sheets: [(name, rows XML)], shared: list of shared strings (rich text
    allowed: a list of runs)."""
    wb = XML_DECL + '<workbook %s><sheets>%s</sheets></workbook>' % (S, "".join(
        '<sheet name="%s" sheetId="%d" r:id="rId%d"/>' % (xesc(n), i + 1, i + 1)
        for i, (n, _) in enumerate(sheets)))
    wb_rels = XML_DECL + '<Relationships xmlns="%s">%s<Relationship Id="rIdS" Type="%s/' \
        'sharedStrings" Target="sharedStrings.xml"/></Relationships>' % (REL_NS, "".join(
            '<Relationship Id="rId%d" Type="%s/worksheet" Target="worksheets/sheet%d.xml"/>'
            % (i + 1, RT, i + 1) for i in range(len(sheets))), RT)

    def si(s):
        if isinstance(s, list):
            return "<si>%s</si>" % "".join('<r><rPr><b/></rPr><t xml:space="preserve">%s</t></r>'
                                           % xesc(p) for p in s)
        return "<si><t>%s</t></si>" % xesc(s)
    sst = XML_DECL + '<sst %s count="%d" uniqueCount="%d">%s</sst>' % (
        S, len(shared), len(shared), "".join(si(s) for s in shared))
    hf = "" if header is None else \
        "<headerFooter><oddHeader>%s</oddHeader><oddFooter>&amp;CPage &amp;P</oddFooter>" \
        "</headerFooter>" % xesc(header)
    ns = "application/vnd.openxmlformats-officedocument.spreadsheetml."
    main = "application/vnd.ms-excel.sheet.macroEnabled.main+xml" if macro else \
        ns + "sheet.main+xml"
    ct = XML_DECL + '<Types xmlns="%s"><Default Extension="rels" ContentType="application/' \
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType=' \
        '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="%s"/>%s' \
        '<Override PartName="/xl/sharedStrings.xml" ContentType="%ssharedStrings+xml"/></Types>' \
        % (CT_NS, main, "".join('<Override PartName="/xl/worksheets/sheet%d.xml" ContentType='
                                 '"%sworksheet+xml"/>' % (i + 1, ns) for i in range(len(sheets))),
           ns)
    members = [("[Content_Types].xml", ct),
               ("_rels/.rels", XML_DECL + '<Relationships xmlns="%s"><Relationship Id="rId1" '
                'Type="%s/officeDocument" Target="xl/workbook.xml"/></Relationships>'
                % (REL_NS, RT)),
               ("xl/workbook.xml", wb), ("xl/_rels/workbook.xml.rels", wb_rels)]
    for i, (_, rows) in enumerate(sheets):
        members.append(("xl/worksheets/sheet%d.xml" % (i + 1),
                        XML_DECL + '<worksheet %s><dimension ref="A1:C9"/><sheetData>%s'
                        '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom='
                        '"0.75" header="0.3" footer="0.3"/>%s</worksheet>' % (S, rows, hf)))
    members.append(("xl/sharedStrings.xml", sst))
    if macro:
        members.append(("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)))
    return zip_members(members)


def row(n, cells):
    """cells: [(type, value)] with type "n" (number), "s" (shared index),
    "inlineStr", "str" (formula result)."""
    out = []
    for i, (t, v) in enumerate(cells):
        ref = "%s%d" % ("ABCDEFGH"[i], n)
        if t == "n":
            out.append('<c r="%s" s="1"><v>%s</v></c>' % (ref, v))
        elif t == "inlineStr":
            out.append('<c r="%s" t="inlineStr"><is><t>%s</t></is></c>' % (ref, xesc(v)))
        elif t == "str":
            out.append('<c r="%s" t="str"><f>CONCATENATE("a","b")</f><v>%s</v></c>'
                       % (ref, xesc(v)))
        else:
            out.append('<c r="%s" t="%s"><v>%s</v></c>' % (ref, t, v))
    return '<row r="%d" spans="1:%d">%s</row>' % (n, len(cells), "".join(out))


P = ('xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
     'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
     'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"')


def a_sp(paragraphs, name="Titre 1"):
    ps = "".join("<a:p>%s</a:p>" % "".join('<a:r><a:rPr lang="fr-FR" dirty="0"/><a:t>%s</a:t>'
                                           '</a:r>' % xesc(r) for r in runs)
                 for runs in paragraphs)
    return ('<p:sp><p:nvSpPr><p:cNvPr id="2" name="%s"/><p:cNvSpPr/><p:nvPr/></p:nvSpPr>'
            '<p:spPr/><p:txBody><a:bodyPr/><a:lstStyle/>%s</p:txBody></p:sp>' % (name, ps))


def pptx(slide, notes, master):
    def sld(root, body):
        return XML_DECL + '<p:%s %s><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/>' \
            '<p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>%s</p:spTree></p:cSld></p:%s>' \
            % (root, P, body, root)
    ns = "application/vnd.openxmlformats-officedocument.presentationml."
    ct = XML_DECL + '<Types xmlns="%s"><Default Extension="rels" ContentType="application/' \
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType=' \
        '"application/xml"/><Override PartName="/ppt/presentation.xml" ContentType="%s' \
        'presentation.main+xml"/><Override PartName="/ppt/slides/slide1.xml" ContentType="%s' \
        'slide+xml"/></Types>' % (CT_NS, ns, ns)
    return zip_members([
        ("[Content_Types].xml", ct),
        ("_rels/.rels", XML_DECL + '<Relationships xmlns="%s"><Relationship Id="rId1" Type="%s/'
         'officeDocument" Target="ppt/presentation.xml"/></Relationships>' % (REL_NS, RT)),
        ("ppt/presentation.xml", XML_DECL + '<p:presentation %s><p:sldIdLst><p:sldId id="256" '
         'r:id="rId2"/></p:sldIdLst></p:presentation>' % P),
        ("ppt/slides/slide1.xml", sld("sld", slide)),
        ("ppt/notesSlides/notesSlide1.xml", sld("notes", notes)),
        ("ppt/slideMasters/slideMaster1.xml", sld("sldMaster", master)),
        ("ppt/slideLayouts/slideLayout1.xml", sld("sldLayout", a_sp([["Titre"]]))),
    ])


# ---------------------------------------------------------------- ODF

ODF_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
          'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
          'xmlns:dc="http://purl.org/dc/elements/1.1/" '
          'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
          'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
          'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
          'office:version="1.3"')


def odf(kind, body, master="", title="Document", manifest_extra="", content_raw=None):
    mime = "application/vnd.oasis.opendocument." + kind
    content = (XML_DECL + '<office:document-content %s><office:automatic-styles/>'
               '<office:body><office:%s>%s</office:%s></office:body></office:document-content>'
               % (ODF_NS, kind, body, kind))
    styles = (XML_DECL + '<office:document-styles %s><office:styles/><office:master-styles>'
              '<style:master-page style:name="Standard" style:page-layout-name="pm1">%s'
              '</style:master-page></office:master-styles></office:document-styles>'
              % (ODF_NS, master))
    meta = (XML_DECL + '<office:document-meta %s><office:meta><meta:generator>LibreOffice/7.4'
            '</meta:generator><dc:title>%s</dc:title><meta:document-statistic meta:page-count="1"/>'
            '</office:meta></office:document-meta>' % (ODF_NS, xesc(title)))
    manifest = (XML_DECL + '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:'
                'xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-'
                'path="/" manifest:version="1.3" manifest:media-type="%s"/><manifest:file-entry '
                'manifest:full-path="content.xml" manifest:media-type="text/xml">%s'
                '</manifest:file-entry></manifest:manifest>' % (mime, manifest_extra))
    return zip_members([("mimetype", mime),
                        ("content.xml", content if content_raw is None else content_raw),
                        ("styles.xml", styles), ("meta.xml", meta),
                        ("META-INF/manifest.xml", manifest)])


def t_p(*spans):
    """A paragraph whose text is cut into spans (as an edited paragraph is)."""
    return "<text:p text:style-name=\"P1\">%s</text:p>" % "".join(
        '<text:span text:style-name="T%d">%s</text:span>' % (i, xesc(s)) if i % 2 else xesc(s)
        for i, s in enumerate(spans))


# ---------------------------------------------------------------- running

def scan(paths, extra=()):
    p, lines = vgfix.scan_json(a.build, paths, None, extra)
    no_leak(p.stdout + p.stderr, planted, "scan of %d files" % len(paths))
    return p, {os.path.basename(l["path"]): l for l in lines}


ref_cache = {}


def masked_of(value):
    """The masked sample the same value gives in a plain text file."""
    if value not in ref_cache:
        p = put("ref/%d.txt" % len(ref_cache), "valeur : %s\n" % value)
        _, r = scan([p])
        f = r[os.path.basename(p)]["findings"]
        ref_cache[value] = f[0]["masked"][0] if f else None
    return ref_cache[value]


def found(rep, value, where, what):
    """value (an IBAN or a NIR) is among the findings at `where`."""
    det = "iban" if value[:2].isalpha() else "fr_nir"
    m = masked_of(value)
    hits = [f for f in rep.get("findings", []) if f["detector"] == det and f["where"] == where
            and m in f["masked"]]
    check(bool(hits), "%s: %s found at %s (%s)" % (what, det, where, m))


def findings_at(rep, where):
    return [f for f in rep.get("findings", []) if f["where"] == where]


def count(rep, det, where):
    return sum(f["count"] for f in rep.get("findings", []) if f["detector"] == det and
               f["where"] == where)


def not_found(rep, value, what):
    det = "iban" if value[:2].isalpha() else "fr_nir"
    # an IBAN with wrong check digits has no reference: its mask would be
    # written like any French IBAN's
    m = masked_of(value) or value[:4] + " **** **** **** **** **** " + value[-3:]
    ok = all(det != f["detector"] or m not in f["masked"] for f in rep.get("findings", []))
    check(ok, "%s: not found (hard negative)" % what)


# ---------------------------------------------------------------- fixtures

files = {}

# docx: an IBAN typed in three runs, a NIR in a table cell, the other places
iban_runs = new_iban()
sp = vgfix.spaced(iban_runs)
nir_cell = new_nir()
iban_hdr, iban_ftr, nir_fn, nir_en, iban_cm, nir_title = (new_iban(), new_iban(), new_nir(),
                                                          new_nir(), new_iban(), new_nir())
wrong = bad_iban()
cells_nir = new_nir()  # its two halves sit in two cells: never joined
body = (w_p("Virement sur le compte %s avant le 5." % sp, (22, 29)) +
        w_p(vgfix.spaced(wrong), (7, 16)) +
        w_table([["Nom", "N° sécurité sociale"], ["Dupont", vgfix.nir_spaced(nir_cell)],
                 [cells_nir[:7], cells_nir[7:]]]) +
        '<w:p><w:r><w:t>Voir la note</w:t></w:r><w:r><w:rPr><w:rStyle w:val="FootnoteReference"/>'
        '</w:rPr><w:footnoteReference w:id="1"/></w:r></w:p>')
files["contrat.docx"] = docx(
    body, header=w_p("CONFIDENTIEL - RIB %s" % vgfix.spaced(iban_hdr), (10, 20)),
    footer=w_p("Compte %s" % iban_ftr, (9,)),
    footnotes=w_p("NIR %s" % nir_fn, (6, 9)),
    endnotes=w_p("Fin : %s" % vgfix.nir_spaced(nir_en)),
    comments=w_p("à vérifier : %s" % vgfix.spaced(iban_cm), (15,)),
    title="Contrat %s" % nir_title)

# the same kind of document as LibreOffice orders it ([Content_Types].xml last,
# libmagic: application/zip) and as a streaming writer does (data descriptors)
iban_lo = new_iban()
files["lo-order.docx"] = docx(w_p("IBAN %s" % vgfix.spaced(iban_lo), (8, 13)), ct_last=True)
iban_stream = new_iban()
files["stream.docx"] = docx(w_p("IBAN %s" % vgfix.spaced(iban_stream), (8,)), ct_last=True,
                            stream=True)
# macro-enabled
nir_docm = new_nir()
files["macro.docm"] = docx(w_p("NIR %s" % nir_docm, (7,)), macro=True)

# xlsx: a NIR stored as a number (plain and in the exponent form some writers
# use), one as a shared string in two rich-text runs, an IBAN inline, one in a
# sheet name, one in the page header; two halves of a NIR in two cells
nir_num, nir_exp, nir_sst = new_nir(), new_nir(), new_nir()
iban_inline, iban_sheet, iban_xhdr = new_iban(), new_iban(), new_iban()
xcells = new_nir()
exp_form = "%s.%sE+14" % (nir_exp[0], nir_exp[1:])
rows = (row(1, [("s", 0), ("s", 1), ("s", 2)]) +
        row(2, [("s", 3), ("n", nir_num), ("n", "42.5")]) +
        row(3, [("s", 3), ("n", exp_form), ("s", 4)]) +
        row(4, [("s", 3), ("inlineStr", vgfix.spaced(iban_inline)), ("b", "1")]) +
        row(5, [("n", xcells[:8]), ("n", xcells[8:]), ("str", "ok")]))
files["paie.xlsx"] = xlsx(
    [("Salariés", rows), (iban_sheet, row(1, [("n", "1")]))],
    ["Nom", "NIR", "Note", "Dupont", [nir_sst[:5], nir_sst[5:11], nir_sst[11:]]],
    header='&L&"Arial,Gras"&12Paie&R%s' % vgfix.spaced(iban_xhdr))
nir_xlsm = new_nir()
files["macro.xlsm"] = xlsx([("Feuil1", row(1, [("n", nir_xlsm)]))], ["x"], macro=True)

# pptx: a slide (an IBAN in two runs), its notes, the master
iban_slide, nir_notes, iban_master = new_iban(), new_nir(), new_iban()
files["présentation.pptx"] = pptx(
    a_sp([["Coordonnées"], [vgfix.spaced(iban_slide)[:9], vgfix.spaced(iban_slide)[9:]]]),
    a_sp([["Rappel : NIR ", vgfix.nir_spaced(nir_notes)]], "Notes"),
    a_sp([["Modèle %s" % iban_master]], "Pied"))

# odt: spans, a header in styles.xml, the title in meta.xml, two halves of an
# IBAN in two paragraphs and a wrong one
iban_odt, iban_odt_hdr, nir_odt_title, nir_odt_ftr = new_iban(), new_iban(), new_nir(), new_nir()
odt_halves, odt_s_iban = new_iban(), new_iban()
s_odt = vgfix.spaced(iban_odt)
files["courrier.odt"] = odf(
    "text",
    t_p("Merci de virer sur ", s_odt[:7], s_odt[7:]) +
    '<text:p>Compte<text:s/>%s<text:s text:c="2"/>fin</text:p>' % vgfix.spaced(odt_s_iban) +
    t_p(odt_halves[:12]) + t_p(odt_halves[12:]) + t_p(vgfix.spaced(bad_iban())) +
    '<text:p>Voir<text:note text:note-class="footnote"><text:note-citation>1</text:note-citation>'
    '<text:note-body><text:p>note</text:p></text:note-body></text:note></text:p>',
    master="<style:header>%s</style:header><style:footer>%s</style:footer>"
           % (t_p("CONFIDENTIEL ", vgfix.spaced(iban_odt_hdr)),
              t_p("Réf. ", vgfix.nir_spaced(nir_odt_ftr))),
    title="Dossier %s" % nir_odt_title)

# ods: a NIR in a float cell shown in scientific notation, a sheet name
nir_ods, iban_ods_sheet = new_nir(), new_iban()
files["tableau.ods"] = odf(
    "spreadsheet",
    '<table:table table:name="%s"><table:table-row><table:table-cell office:value-type="float" '
    'office:value="%s"><text:p>1,85E+14</text:p></table:table-cell><table:table-cell '
    'office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>'
    '</table:table>' % (iban_ods_sheet, nir_ods))

# odp: a slide and its notes
iban_odp, nir_odp_notes = new_iban(), new_nir()
s_odp = vgfix.spaced(iban_odp)
files["diapo.odp"] = odf(
    "presentation",
    '<draw:page draw:name="page1"><draw:frame><draw:text-box>%s</draw:text-box></draw:frame>'
    '<presentation:notes><draw:frame><draw:text-box>%s</draw:text-box></draw:frame>'
    '</presentation:notes></draw:page>' % (t_p(s_odp[:5], s_odp[5:]),
                                             t_p("NIR ", vgfix.nir_spaced(nir_odp_notes))))

# an xlsx embedded in a docx, and the docx in a zip
nir_embedded = new_nir()
inner = xlsx([("Feuil1", row(1, [("n", nir_embedded)]))], ["x"])
iban_rapport = new_iban()
files["rapport.docx"] = docx(w_p("Voir le tableau. %s" % vgfix.spaced(iban_rapport)),
                             embeddings=[("Feuille.xlsx", inner)])
zbuf = io.BytesIO()
with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("contrat.docx", files["lo-order.docx"])
files["dossier.zip"] = zbuf.getvalue()

# a docx renamed .jpg: read as a docx
files["photo.jpg"] = files["macro.docm"]

# entity bombs and external entities: never expanded, never fetched
lol = "".join('<!ENTITY lol%d "%s">' % (i, "&lol%d;" % (i - 1) * 10) for i in range(1, 10))
billion = ('<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY lol0 "lol">%s]>'
           '<w:document %s><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>'
           % (lol, W))
quadratic = ('<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "%s">]><w:document %s>'
             '<w:body><w:p><w:r><w:t>%s</w:t></w:r></w:p></w:body></w:document>'
             % ("A" * 50000, W, "&a;" * 50000))
xxe = ('<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
       '<w:document %s><w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>' % W)
xxe_param = ('<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY %% p SYSTEM "http://127.0.0.1:9/'
             'x.dtd"> %%p;]><w:document %s><w:body/></w:document>' % W)
deep = ('<w:document %s><w:body>' % W + "<w:sdt><w:sdtContent>" * 3000 +
        "</w:sdtContent></w:sdt>" * 3000 + "</w:body></w:document>")
iban_beside = new_iban()
for name, xml in [("billion.docx", billion), ("quadratic.docx", quadratic), ("xxe.docx", xxe),
                  ("xxe-param.docx", xxe_param), ("deep.docx", deep)]:
    d = docx("", header=w_p("RIB %s" % vgfix.spaced(iban_beside)) if name == "xxe.docx" else None)
    with zipfile.ZipFile(io.BytesIO(d)) as zi:
        members = [(n, xml if n == "word/document.xml" else zi.read(n)) for n in zi.namelist()]
    files[name] = zip_members(members)

# damaged: truncated, malformed XML, an encrypted OpenDocument
files["tronque.docx"] = files["contrat.docx"][:len(files["contrat.docx"]) // 2]
with zipfile.ZipFile(io.BytesIO(files["lo-order.docx"])) as zi:
    files["malforme.docx"] = zip_members(
        [(n, "<w:document %s><w:body><w:p>" % W if n == "word/document.xml" else zi.read(n))
         for n in zi.namelist()])
files["chiffre.odt"] = odf(
    "text", "", content_raw=os.urandom(2048),
    manifest_extra='<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum'
                   '="AAAA"><manifest:algorithm manifest:algorithm-name="Blowfish CFB" manifest:'
                   'initialisation-vector="AAAA"/></manifest:encryption-data>')



def hide_member(zdata, name):
    """The zip with `name` left out of its central directory: its local header
    and data stay where they are, unlisted."""
    import struct
    eocd = zdata.rfind(b"PK\5\6")
    n, cd_size, cd_off = struct.unpack("<HII", zdata[eocd + 10:eocd + 20])
    entries, pos = [], cd_off
    for _ in range(n):
        nlen, xlen, clen = struct.unpack("<HHH", zdata[pos + 28:pos + 34])
        end = pos + 46 + nlen + xlen + clen
        if zdata[pos + 46:pos + 46 + nlen].decode() != name:
            entries.append(zdata[pos:end])
        pos = end
    cd = b"".join(entries)
    tail = zdata[eocd:eocd + 8] + struct.pack("<HHII", len(entries), len(entries), len(cd),
                                              cd_off) + zdata[eocd + 20:]
    return zdata[:cd_off] + cd + tail


# a docx with a member hidden from its directory: read as a zip, never trusted
hidden_iban = new_iban()
files["cache.docx"] = hide_member(docx(w_p("Rien ici."), extra=[
    ("word/cache.txt", "RIB %s" % vgfix.spaced(hidden_iban))]), "word/cache.txt")

paths = [put(n, d) for n, d in files.items()]

# ---------------------------------------------------------------- checks

t0 = time.monotonic()
p, r = scan(paths)
elapsed = time.monotonic() - t0
check(p.returncode == 1, "exit status 1 (got %d)" % p.returncode)

d = r.get("contrat.docx", {})
check(d.get("type") == "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
      "contrat.docx typed docx (%s)" % d.get("type"))
found(d, iban_runs, "contrat.docx", "docx body, IBAN typed in 3 runs")
found(d, nir_cell, "contrat.docx", "docx table cell")
found(d, iban_hdr, "contrat.docx", "docx header")
found(d, iban_ftr, "contrat.docx", "docx footer")
found(d, nir_fn, "contrat.docx", "docx footnote")
found(d, nir_en, "contrat.docx", "docx endnote")
found(d, iban_cm, "contrat.docx", "docx comment")
found(d, nir_title, "contrat.docx", "docx title (core properties)")
check(count(d, "iban", "contrat.docx") == 4, "docx: 4 IBANs, the wrong one not counted (%d)"
      % count(d, "iban", "contrat.docx"))
check(count(d, "fr_nir", "contrat.docx") == 4, "docx: 4 NIRs, none formed across cells (%d)"
      % count(d, "fr_nir", "contrat.docx"))
not_found(d, wrong, "docx: IBAN with a wrong check digit, split across runs")
not_found(d, cells_nir, "docx: NIR halves in two table cells")
check(d.get("unscannable") == [], "contrat.docx: nothing unscannable")

for name, v in [("lo-order.docx", iban_lo), ("stream.docx", iban_stream),
                ("macro.docm", nir_docm), ("macro.xlsm", nir_xlsm)]:
    found(r.get(name, {}), v, name, "%s (type %s)" % (name, r.get(name, {}).get("type")))
    check(r.get(name, {}).get("unscannable") == [], "%s: nothing unscannable" % name)
check(r.get("lo-order.docx", {}).get("type") in ("application/zip", "application/vnd."
      "openxmlformats-officedocument.wordprocessingml.document"), "lo-order.docx type")

x = r.get("paie.xlsx", {})
found(x, nir_num, "paie.xlsx", "xlsx number cell <v>%s</v>" % ("d" * 15))
found(x, nir_exp, "paie.xlsx", "xlsx number cell in exponent form")
found(x, nir_sst, "paie.xlsx", "xlsx shared string in 3 rich-text runs")
found(x, iban_inline, "paie.xlsx", "xlsx inline string")
found(x, iban_sheet, "paie.xlsx", "xlsx sheet name")
found(x, iban_xhdr, "paie.xlsx", "xlsx page header (&-codes dropped)")
not_found(x, xcells, "xlsx: NIR halves in two cells")
check(count(x, "fr_nir", "paie.xlsx") == 3, "xlsx: 3 NIRs (%d)" % count(x, "fr_nir", "paie.xlsx"))

pp = r.get("présentation.pptx", {})
found(pp, iban_slide, "présentation.pptx", "pptx slide, IBAN in two runs")
found(pp, nir_notes, "présentation.pptx", "pptx notes")
found(pp, iban_master, "présentation.pptx", "pptx slide master")

o = r.get("courrier.odt", {})
check(o.get("type") == "application/vnd.oasis.opendocument.text", "odt typed by content")
found(o, iban_odt, "courrier.odt", "odt body, IBAN in spans")
found(o, odt_s_iban, "courrier.odt", "odt <text:s/> spaces")
found(o, iban_odt_hdr, "courrier.odt", "odt header (styles.xml)")
found(o, nir_odt_ftr, "courrier.odt", "odt footer (styles.xml)")
found(o, nir_odt_title, "courrier.odt", "odt title (meta.xml)")
not_found(o, odt_halves, "odt: IBAN halves in two paragraphs")
check(count(o, "iban", "courrier.odt") == 3, "odt: 3 IBANs (%d)" % count(o, "iban", "courrier.odt"))

s = r.get("tableau.ods", {})
found(s, nir_ods, "tableau.ods", "ods float cell shown as 1,85E+14")
found(s, iban_ods_sheet, "tableau.ods", "ods sheet name")
check(count(s, "fr_nir", "tableau.ods") == 1, "ods: the value counted once")

dp = r.get("diapo.odp", {})
found(dp, iban_odp, "diapo.odp", "odp slide")
found(dp, nir_odp_notes, "diapo.odp", "odp notes")

rp = r.get("rapport.docx", {})
found(rp, iban_rapport, "rapport.docx", "docx with an embedded workbook: its own text")
found(rp, nir_embedded, "rapport.docx/word/embeddings/Feuille.xlsx", "xlsx embedded in a docx")
found(r.get("dossier.zip", {}), iban_lo, "dossier.zip/contrat.docx", "docx inside a zip")
ph = r.get("photo.jpg", {})
found(ph, nir_docm, "photo.jpg", "docx renamed .jpg read as a docx")

for name in ["billion.docx", "quadratic.docx", "xxe.docx", "xxe-param.docx"]:
    b = r.get(name, {})
    check({"where": name, "reason": "corrupt"} in b.get("unscannable", []),
          "%s: unscannable corrupt (%s)" % (name, b.get("unscannable")))
found(r.get("xxe.docx", {}), iban_beside, "xxe.docx", "xxe.docx: the other parts are still read")
check(r.get("xxe.docx", {}).get("verdict") == "flagged", "xxe.docx: flagged (a finding wins)")
check(r.get("billion.docx", {}).get("verdict") == "unscannable", "billion.docx: unscannable")
check({"where": "deep.docx", "reason": "limit:depth"} in r.get("deep.docx", {}).get("unscannable", []),
      "deep.docx: 3000 nested elements, limit:depth (%s)" % r.get("deep.docx", {}).get("unscannable"))
check(r.get("tronque.docx", {}).get("verdict") == "unscannable" and
      r.get("tronque.docx", {}).get("unscannable", [{}])[0].get("reason") == "corrupt",
      "truncated docx: corrupt (%s)" % r.get("tronque.docx", {}).get("unscannable"))
check({"where": "malforme.docx", "reason": "corrupt"} in r.get("malforme.docx", {}).get(
    "unscannable", []), "malformed document.xml: corrupt")
check({"where": "chiffre.odt", "reason": "encrypted"} in r.get("chiffre.odt", {}).get(
    "unscannable", []), "encrypted odt: encrypted (%s)" % r.get("chiffre.odt", {}).get("unscannable"))
cd = r.get("cache.docx", {})
check(cd.get("verdict") != "clean", "docx with a hidden member: not clean (%s, %s)"
      % (cd.get("verdict"), cd.get("unscannable")))
check(any(f["where"].startswith("cache.docx") for f in cd.get("findings", [])) or
      any(u["reason"] == "ambiguous" for u in cd.get("unscannable", [])),
      "docx with a hidden member: the hidden text found or the zip ambiguous")
print("# %d office files scanned in %.1f s" % (len(paths), elapsed))

# bombs alone: as quick as a small clean document (the machine may be busy:
# the time of a run over a plain docx is the yardstick)
t0 = time.monotonic()
vgfix.scan_json(a.build, [os.path.join(tmp, "lo-order.docx")])
base = time.monotonic() - t0
print("# lo-order.docx (yardstick): %.3f s" % base)
for name in ["billion.docx", "quadratic.docx", "xxe.docx", "deep.docx"]:
    t0 = time.monotonic()
    vgfix.scan_json(a.build, [os.path.join(tmp, name)])
    dt = time.monotonic() - t0
    check(dt < base + 2, "%s refused in %.2f s" % (name, dt))
    print("# %s: %.3f s" % (name, dt))

# ---------------------------------------------------------------- RTF

iban_rtf, nir_rtf_hex, nir_rtf_u, iban_rtf_hdr, nir_rtf_title = (new_iban(), new_nir(), new_nir(),
                                                                  new_iban(), new_nir())
s_rtf = vgfix.spaced(iban_rtf)
pict_nir = new_nir()
bin_iban = new_iban()
par_nir = new_nir()
fonttbl_iban = new_iban()
after_bin = new_iban()


def rtf_hex(s):
    return "".join("\\'%02x" % ord(c) for c in s)


def rtf_u(s):
    return "".join("\\u%d?" % ord(c) for c in s)


bin_payload = ("{}}\\par " + bin_iban).encode()
rtf = (b"{\\rtf1\\ansi\\ansicpg1252\\deff0\\nouicompat{\\fonttbl{\\f0\\fnil\\fcharset0 Calibri "
       + fonttbl_iban.encode() + b";}}\r\n"
       b"{\\colortbl ;\\red0\\green0\\blue255;}\r\n"
       b"{\\*\\generator Riched20 10.0.19041}"
       b"{\\info{\\title Dossier " + nir_rtf_title.encode() + b"}{\\author Claire}}\r\n"
       b"{\\header\\pard\\plain RIB " + vgfix.spaced(iban_rtf_hdr).encode() + b"\\par}\r\n"
       b"\\viewkind4\\uc1\\pard\\sa200\\sl276\\slmult1\\f0\\fs22\\lang12 Coordonn\\'e9es : "
       + s_rtf[:4].encode() + b"{\\b " + s_rtf[4:10].encode() + b"}\\i "
       + s_rtf[10:].encode() + b"\\i0\\par\r\n"
       b"NIR " + rtf_hex(nir_rtf_hex).encode() + b"\\par\r\n"
       b"NIR \\uc1 " + rtf_u(nir_rtf_u).encode() + b"\\par\r\n"
       b"{\\pict\\pngblip\\picw10\\pich10 89504e47" + pict_nir.encode() + b"0d0a1a0a}\r\n"
       b"{\\*\\blipuid 0123}{\\pict\\bin" + str(len(bin_payload)).encode() + b" " + bin_payload
       + b"}\r\n"
       b"Apr\\'e8s " + vgfix.spaced(after_bin).encode() + b"\\par\r\n"
       + par_nir[:7].encode() + b"\\par " + par_nir[7:].encode() + b"\\par\r\n}\r\n")
rtf_path = put("lettre.rtf", rtf)
p, r = scan([rtf_path])
t = r.get("lettre.rtf", {})
check(t.get("type") == "text/rtf", "rtf typed text/rtf (%s)" % t.get("type"))
found(t, iban_rtf, "lettre.rtf", "rtf IBAN split by control words and groups")
found(t, nir_rtf_hex, "lettre.rtf", "rtf NIR written in \\'hh")
found(t, nir_rtf_u, "lettre.rtf", "rtf NIR written in \\uN")
found(t, iban_rtf_hdr, "lettre.rtf", "rtf header")
found(t, nir_rtf_title, "lettre.rtf", "rtf \\info title")
found(t, after_bin, "lettre.rtf", "rtf text after \\bin data with braces")
not_found(t, pict_nir, "rtf picture hex data")
not_found(t, bin_iban, "rtf \\bin data")
not_found(t, fonttbl_iban, "rtf font table")
not_found(t, par_nir, "rtf NIR halves in two paragraphs")
check(count(t, "iban", "lettre.rtf") == 3 and count(t, "fr_nir", "lettre.rtf") == 3,
      "rtf: 3 IBANs, 3 NIRs (%d, %d)" % (count(t, "iban", "lettre.rtf"),
                                        count(t, "fr_nir", "lettre.rtf")))

# ---------------------------------------------------------------- HTML

iban_b, nir_ent, iban_alt, iban_cmt, iban_16, iban_1252 = (new_iban(), new_nir(), new_iban(),
                                                            new_iban(), new_iban(), new_iban())
script_iban, td_nir, nir_hex_ent = new_iban(), new_nir(), new_nir()
s_b = vgfix.spaced(iban_b)


def dec_ent(s):
    return "".join("&#%d;" % ord(c) if c.isdigit() and i % 2 else c for i, c in enumerate(s))


html = ("<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Relevé</title>\n"
        "<style>td { color: red } /* %s */</style>\n"
        "<script>var x = \"%s\";</script></head>\n<body>\n"
        "<p>Virement : <b>%s</b>%s<i>%s</i></p>\n"
        "<p>NIR&nbsp;: %s</p>\n<p>NIR : %s</p>\n"
        "<p><img src=\"logo.png\" alt=\"RIB %s\"></p>\n"
        "<!-- ancien RIB : %s -->\n"
        "<table><tr><td>%s</td><td>%s</td></tr></table>\n"
        "<p>Caf&eacute; cr&egrave;me &amp; co &lt;3 AT&T &copy2024</p>\n</body></html>\n"
        % (script_iban, script_iban, s_b[:4], s_b[4:5], s_b[5:],
           dec_ent(vgfix.nir_spaced(nir_ent)),
           "".join("&#x%x;" % ord(c) for c in nir_hex_ent),
           vgfix.spaced(iban_alt), vgfix.spaced(iban_cmt), td_nir[:7], td_nir[7:]))
h1 = put("page.html", html)
h2 = put("utf16.htm", ("\ufeff<html><body><p>Compte <span>%s</span></p></body></html>"
                       % vgfix.spaced(iban_16)).encode("utf-16-le"))
h3 = put("latin.html", ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
                        "charset=windows-1252\"></head><body><p>Coordonnées bancaires « %s »</p>"
                        "</body></html>" % vgfix.spaced(iban_1252)).encode("cp1252"))
frag_iban = new_iban()
h4 = put("fragment.html", "<div><p>RIB <strong>%s</strong></p></div>\n" % vgfix.spaced(frag_iban))
plain_iban = new_iban()
h5 = put("notes.txt", "Pas du HTML : <b>%s</b>\n" % vgfix.spaced(plain_iban))
p, r = scan([h1, h2, h3, h4, h5])
hp = r.get("page.html", {})
found(hp, iban_b, "page.html", "html IBAN split by <b> and <i> tags")
found(hp, nir_ent, "page.html", "html NIR with digits as &#NN; and &nbsp;")
found(hp, nir_hex_ent, "page.html", "html NIR written in &#xNN;")
found(hp, iban_alt, "page.html", "html alt text")
found(hp, iban_cmt, "page.html", "html comment")
not_found(hp, script_iban, "html script and style content")
not_found(hp, td_nir, "html NIR halves in two cells")
found(r.get("utf16.htm", {}), iban_16, "utf16.htm", "html in UTF-16LE with a BOM")
found(r.get("latin.html", {}), iban_1252, "latin.html", "html in windows-1252 (meta)")
found(r.get("fragment.html", {}), frag_iban, "fragment.html", "html fragment")
found(r.get("notes.txt", {}), plain_iban, "notes.txt", "plain text with a tag: still text")

# ---------------------------------------------------------------- LibreOffice

lo_dir = os.path.join(a.source, "tests", "integration", "office")
expect = os.path.join(lo_dir, "expected.json")
if os.path.exists(expect):
    with open(expect) as f:
        want = json.load(f)
    lo_paths = [os.path.join(lo_dir, n) for n in sorted(want)]
    for v in want.values():
        planted.extend(v)
    p, r = scan(lo_paths)
    for n in sorted(want):
        rep = r.get(n, {})
        for v in want[n]:
            found(rep, v, n, "LibreOffice %s" % n)
        check(rep.get("unscannable") == [], "LibreOffice %s: nothing unscannable" % n)
else:
    check(False, "LibreOffice fixtures missing (%s)" % expect)

finish(tmp)
