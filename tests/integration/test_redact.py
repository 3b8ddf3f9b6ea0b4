"""`vigiectl redact` per format, on generated documents with planted identifiers
(valid check digits), some split across runs, in table cells, in headers and
footers, in document properties.

For each copy: no planted value in any spelling (spaced, compact, dotted, runs
of 8 digits) in the copy's bytes, its decompressed XML parts, or the text of the
PDF LibreOffice makes of it; `vigiectl scan` of the copy is clean; every other
word is kept; the same value always has the same placeholder. Refusals: a
document held for a marking only is not redacted (exit 3); a copy in which a
value survives (a base64 mail part, rewritten as text in place) is not written
(exit 4). The office copies are converted once per format with
`libreoffice --headless --convert-to pdf` when LibreOffice is installed."""

import base64
import os
import re
import shutil
import subprocess
import zipfile

from common import args, check, finish, scratch, vgfix

import pdfgen  # noqa: E402 (tests/tools is on the path through common)

a = args()
tmp = scratch("redact")
rng = vgfix.rng(811)
vigiectl = os.path.join(a.build, "vigiectl")
conf = os.path.join(tmp, "vigie.conf")
with open(conf, "w") as f:
    f.write('alerts = { language = "fr"; };\n')


def luhn_card(prefix="4970"):
    digits = [int(c) for c in prefix] + [rng.randrange(10) for _ in range(15 - len(prefix))]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def dotted(v):
    return ".".join(v[i:i + 4] for i in range(0, len(v), 4))


def spellings(v):
    c = v.replace(" ", "")
    out = set(vgfix.spellings(c)) | vgfix.digit_runs(c) | {dotted(c)}
    return out


NIR = vgfix.nir(rng)
NIR2 = vgfix.nir(rng)
IBAN = vgfix.french_iban(rng)
CARD = luhn_card()
MAIL = "chloe.legrand@exemple.fr"
PHONE = "06 41 27 93 58"
VALUES = [NIR, NIR2, IBAN, CARD]
WORDS = ["Contrat", "rejoint", "Paiement", "Coordonnées", "bancaires", "échéance"]


def put(name, data):
    p = os.path.join(tmp, name)
    with open(p, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    return p


def redact(path, *extra):
    out = os.path.join(tmp, "out-" + os.path.basename(path))
    if "--format" in extra:
        out += ".txt"
    if os.path.exists(out):
        os.unlink(out)
    p = subprocess.run([vigiectl, "-c", conf, "redact", "-o", out] + list(extra) + [path],
                       capture_output=True, text=True)
    return p, out


def leaks(text, values=VALUES):
    found = []
    for v in values:
        for s in spellings(v):
            if s in text:
                found.append(s)
    return found


def xml_text(path):
    """The decompressed XML parts of a package, joined."""
    with zipfile.ZipFile(path) as z:
        return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist()
                         if n.endswith(".xml") or n.endswith(".rels"))


def scanned_clean(path, what):
    p, lines = vgfix.scan_json(a.build, [path], config=conf)
    ok = lines and lines[0]["verdict"] == "clean"
    check(ok, "%s: the copy scans clean %s" % (what, "" if ok else p.stdout[:300]))


def common_checks(what, p, out, text, values=VALUES, words=WORDS, placeholders=()):
    check(p.returncode == 0, "%s: redacted (exit %d: %s)" % (what, p.returncode, p.stderr[-300:]))
    if p.returncode != 0:
        return
    lk = leaks(text, values)
    check(not lk, "%s: no planted value in the copy %s" % (what, lk[:3]))
    lk = leaks(p.stderr, values)
    check(not lk, "%s: no planted value on stderr %s" % (what, lk[:3]))
    missing = [w for w in words if w not in text]
    check(not missing, "%s: every other word kept (missing %s)" % (what, missing))
    for ph in placeholders:
        check(ph in text, "%s: placeholder %s" % (what, ph))
    scanned_clean(out, what)


def body_text(sep=" "):
    return ("Contrat de travail. Mme Chloé LEGRAND rejoint l'équipe.\n"
            "NIR : %s\nCoordonnées bancaires : %s\nCarte : %s\n"
            "Paiement à échéance. Rappel du NIR : %s et de l'autre : %s\n"
            "Contact : %s, %s\n" % (vgfix.nir_spaced(NIR), vgfix.spaced(IBAN), CARD,
                                   NIR, vgfix.nir_spaced(NIR2), MAIL, PHONE))


# ---------------------------------------------------------------- text formats

src = body_text()
p, out = redact(put("lettre.txt", src))
text = open(out, encoding="utf-8").read() if p.returncode == 0 else ""
common_checks("txt", p, out, text,
              placeholders=["[NIR-1]", "[NIR-2]", "[IBAN-1]", "[CARTE-1]", "[PERSONNE-1]"])
check(text.count("[NIR-1]") == 2, "txt: the same NIR twice is [NIR-1] twice")
check(MAIL not in text and "[EMAIL-1]" in text, "txt: the address is replaced")
check("06 41" not in text and "[TELEPHONE-1]" in text, "txt: the phone number is replaced")
check("LEGRAND" not in text, "txt: the name is replaced")
# outside the values, byte for byte the same
skeleton = re.sub(r"\[[A-Z-]+(?:-\d+)?\]", "", text)
check("Contrat de travail.  rejoint l'équipe.\n" in skeleton, "txt: the rest is untouched")
check("nir" in p.stderr.lower() and "[NIR-1]" in p.stderr, "txt: stderr says what was replaced")

csv = ("nom;prenom;nir;iban\r\nLEGRAND;Chloé;%s;%s\r\nMARTIN;Paul;%s;%s\r\n"
       % (NIR, IBAN, NIR2, vgfix.spaced(IBAN))).encode("cp1252")
p, out = redact(put("paie.csv", csv))
raw = open(out, "rb").read() if p.returncode == 0 else b""
text = raw.decode("cp1252", "replace")
common_checks("csv (cp1252)", p, out, text, words=["nom;prenom;nir;iban", "\r\n"],
              placeholders=["[NIR-1]", "[NIR-2]", "[IBAN-1]"])
check(text.count("[IBAN-1]") == 2, "csv: one IBAN spelt two ways is one placeholder")
check(raw.count(b";") == csv.count(b";"), "csv: the columns stay")

html = ("<!DOCTYPE html><html><head><title>Contrat</title></head><body>"
        "<p>Contrat de travail : <b>%s</b></p><table><tr><td>IBAN</td><td>%s</td></tr></table>"
        "<p>Paiement à échéance, <a href=\"mailto:%s\">écrire</a>. Coordonnées bancaires "
        "rejoint.</p></body></html>" % (vgfix.nir_spaced(NIR), IBAN, MAIL))
p, out = redact(put("page.html", html))
text = open(out, encoding="utf-8").read() if p.returncode == 0 else ""
common_checks("html", p, out, text, values=[NIR, IBAN], placeholders=["[NIR-1]", "[IBAN-1]"])
check(MAIL not in text and "<a href=\"mailto:[EMAIL-1]\">" in text, "html: the link's address")
check(text.startswith("<!DOCTYPE html><html><head><title>Contrat</title>"), "html: markup kept")

js = ('{"contrat": "Contrat", "salarie": {"nir": "%s", "iban": "%s"}, '
      '"note": "Paiement rejoint Coordonnées bancaires échéance"}\n' % (NIR, IBAN))
p, out = redact(put("fiche.json", js))
text = open(out, encoding="utf-8").read() if p.returncode == 0 else ""
common_checks("json", p, out, text, values=[NIR, IBAN], placeholders=["[NIR-1]", "[IBAN-1]"])
check('"nir": "[NIR-1]"' in text, "json: still JSON with the value replaced")

eml = ("From: \"Chloé Legrand\" <%s>\r\nTo: paie@exemple.fr\r\nSubject: Contrat\r\n"
       "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
       "Content-Transfer-Encoding: 8bit\r\n\r\n%s" % (MAIL, body_text().replace("\n", "\r\n")))
p, out = redact(put("mail.eml", eml))
text = open(out, encoding="utf-8").read() if p.returncode == 0 else ""
common_checks("eml", p, out, text, placeholders=["[NIR-1]", "[PERSONNE-1]"])
check("Legrand" not in text and "From: \"[PERSONNE-1]\" <[EMAIL-1]>" in text,
      "eml: the sender's name and address are replaced")

# A base64 part cannot be rewritten in place: the copy is the mail's text instead.
eml64 = ("From: a@exemple.fr\r\nTo: b@exemple.fr\r\nSubject: Paie\r\nMIME-Version: 1.0\r\n"
         "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
         "%s\r\n" % base64.b64encode(body_text().encode()).decode())
p, out = redact(put("mail64.eml", eml64))
text = open(out, encoding="utf-8").read() if p.returncode == 0 else ""
common_checks("eml base64", p, out, text, words=["Contrat", "Paiement"],
              placeholders=["[NIR-1]", "[IBAN-1]"])
check("(texte)" in p.stderr, "eml base64: the copy is the extracted text")
p, out = redact(os.path.join(tmp, "mail64.eml"), "--format", "text")
text = open(out, encoding="utf-8").read() if p.returncode == 0 else ""
common_checks("eml base64 --format text", p, out, text, words=["Contrat", "Paiement"],
              placeholders=["[NIR-1]"])

# What the policy still flags in the copy: no copy at all (exit 4). Here a
# custom rule that matches a placeholder stands for any value redaction misses.
rules_dir = os.path.join(tmp, "rules.d")
os.makedirs(rules_dir)
with open(os.path.join(rules_dir, "leak.conf"), "w") as f:
    f.write('rules = ( { id = "leak"; pattern = "\\\\[NIR-1\\\\]"; } );\n')
conf4 = os.path.join(tmp, "vigie4.conf")
with open(conf4, "w") as f:
    f.write('rules = { dirs = [ "%s" ]; };\npolicies = { default = { detectors = { leak = '
            '{ threshold = 1; action = "quarantine"; }; }; }; };\n' % rules_dir)
out4 = os.path.join(tmp, "out-still.txt")
p = subprocess.run([vigiectl, "-c", conf4, "redact", "-o", out4, os.path.join(tmp, "lettre.txt")],
                   capture_output=True, text=True)
check(p.returncode == 4 and not os.path.exists(out4) and "leak" in p.stderr,
      "still flagged after redaction: no copy, exit 4 (%d: %s)" % (p.returncode, p.stderr[-200:]))
check(not [f for f in os.listdir(tmp) if f.startswith(".vigie-redact")],
      "still flagged: no temporary file left")

# Held for a marking only: not redactable, no copy, the reason said.
p, out = redact(put("note.txt", "DIFFUSION RESTREINTE\nContrat sans donnée personnelle.\n"))
check(p.returncode == 3 and not os.path.exists(out) and "marking" in p.stderr,
      "marking only: not redacted, stays held (exit %d)" % p.returncode)

# PDF: redacted text.
pdf = pdfgen.document([body_text().split("\n")])
p, out = redact(put("releve.pdf", pdf))
text = open(out, encoding="utf-8").read() if p.returncode == 0 else ""
common_checks("pdf", p, out, text, placeholders=["[NIR-1]", "[IBAN-1]"])
check("(texte)" in p.stderr or "(text)" in p.stderr, "pdf: the copy is text")

# ---------------------------------------------------------------- office

XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" ' \
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"


def zipit(members):
    import io
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            if name == "mimetype":
                z.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_STORED)
            else:
                z.writestr(name, data)
    return b.getvalue()


def runs(text, cuts):
    pieces, last = [], 0
    for c in list(cuts) + [len(text)]:
        pieces.append(text[last:c])
        last = c
    return "".join('<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">%s</w:t></w:r>'
                   '<w:proofErr w:type="spellStart"/>' % p for p in pieces)


def wp(text, cuts=()):
    return "<w:p>%s</w:p>" % runs(text, cuts)


nir_sp = vgfix.nir_spaced(NIR)
iban_sp = vgfix.spaced(IBAN)
body = (wp("Contrat de travail : Mme Chloé LEGRAND rejoint l'équipe.") +
        wp("NIR : " + nir_sp, cuts=[8, 12, 17]) +  # split across runs
        "<w:tbl><w:tr><w:tc>%s</w:tc><w:tc>%s</w:tc></w:tr></w:tbl>"
        % (wp("Coordonnées bancaires"), wp(iban_sp, cuts=[7, 15])) +
        wp("Paiement à échéance, carte %s, rappel %s." % (CARD, NIR)) +
        '<w:sectPr><w:headerReference w:type="default" r:id="rId2"/>'
        '<w:footerReference w:type="default" r:id="rId3"/></w:sectPr>')
docx = zipit([
    ("[Content_Types].xml", XML_DECL + '<Types xmlns="%s"><Default Extension="rels" ContentType='
     '"application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
     'ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="'
     'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
     '<Override PartName="/word/header1.xml" ContentType="application/vnd.openxmlformats-'
     'officedocument.wordprocessingml.header+xml"/><Override PartName="/word/footer1.xml" '
     'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/>'
     '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
     'package.core-properties+xml"/></Types>' % CT),
    ("_rels/.rels", XML_DECL + '<Relationships xmlns="%s"><Relationship Id="rId1" Type="%s/'
     'officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.'
     'openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/'
     'core.xml"/></Relationships>' % (REL, RT)),
    ("word/document.xml", XML_DECL + "<w:document %s><w:body>%s</w:body></w:document>"
     % (W, body)),
    ("word/_rels/document.xml.rels", XML_DECL + '<Relationships xmlns="%s"><Relationship '
     'Id="rId2" Type="%s/header" Target="header1.xml"/><Relationship Id="rId3" Type="%s/footer" '
     'Target="footer1.xml"/><Relationship Id="rId9" Type="%s/hyperlink" Target="mailto:%s" '
     'TargetMode="External"/></Relationships>' % (REL, RT, RT, RT, MAIL)),
    ("word/header1.xml", XML_DECL + "<w:hdr %s>%s</w:hdr>" % (W, wp("Salarié : " + nir_sp,
                                                                   cuts=[12]))),
    ("word/footer1.xml", XML_DECL + "<w:ftr %s>%s</w:ftr>" % (W, wp("IBAN " + IBAN))),
    ("docProps/core.xml", XML_DECL + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats'
     '.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
     '<dc:title>Contrat</dc:title><dc:creator>Chloé Legrand</dc:creator></cp:coreProperties>'),
])

S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ' \
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
sheet = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
         '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>%s</v></c></row>'
         '<row r="3"><c r="A3" t="inlineStr"><is><t>Paiement</t></is></c>'
         '<c r="B3" t="inlineStr"><is><t>%s</t></is></c></row>' % (NIR, CARD))
sst = ('<si><t>Coordonnées bancaires</t></si><si><r><t>%s</t></r><r><t>%s</t></r></si>'
       '<si><t>NIR échéance</t></si>' % (iban_sp[:9], iban_sp[9:]))
xlsx = zipit([
    ("[Content_Types].xml", XML_DECL + '<Types xmlns="%s"><Default Extension="rels" ContentType='
     '"application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
     'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="'
     'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
     'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
     'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" '
     'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"'
     '/></Types>' % CT),
    ("_rels/.rels", XML_DECL + '<Relationships xmlns="%s"><Relationship Id="rId1" Type="%s/'
     'officeDocument" Target="xl/workbook.xml"/></Relationships>' % (REL, RT)),
    ("xl/workbook.xml", XML_DECL + '<workbook %s><sheets><sheet name="Contrat" sheetId="1" '
     'r:id="rId1"/></sheets></workbook>' % S),
    ("xl/_rels/workbook.xml.rels", XML_DECL + '<Relationships xmlns="%s"><Relationship Id="rId1" '
     'Type="%s/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="%s/'
     'sharedStrings" Target="sharedStrings.xml"/></Relationships>' % (REL, RT, RT)),
    ("xl/worksheets/sheet1.xml", XML_DECL + '<worksheet %s><sheetData>%s</sheetData>'
     '<headerFooter><oddHeader>&amp;CRappel %s</oddHeader></headerFooter></worksheet>'
     % (S, sheet, IBAN)),
    ("xl/sharedStrings.xml", XML_DECL + '<sst %s count="3" uniqueCount="3">%s</sst>' % (S, sst)),
])

ODF = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
       'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
       'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
       'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
       'xmlns:dc="http://purl.org/dc/elements/1.1/" '
       'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.3"')


def odf(kind, body, master=""):
    mime = "application/vnd.oasis.opendocument." + kind
    return zipit([
        ("mimetype", mime),
        ("content.xml", XML_DECL + '<office:document-content %s><office:body><office:%s>%s'
         '</office:%s></office:body></office:document-content>'
         % (ODF, "text" if kind == "text" else "spreadsheet", body,
            "text" if kind == "text" else "spreadsheet")),
        ("styles.xml", XML_DECL + '<office:document-styles %s><office:master-styles>%s'
         '</office:master-styles></office:document-styles>' % (ODF, master)),
        ("meta.xml", XML_DECL + '<office:document-meta %s><office:meta><dc:creator>Chloé Legrand'
         '</dc:creator></office:meta></office:document-meta>' % ODF),
        ("META-INF/manifest.xml", XML_DECL + '<manifest:manifest xmlns:manifest="urn:oasis:names'
         ':tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry '
         'manifest:full-path="/" manifest:media-type="%s"/><manifest:file-entry manifest:full-'
         'path="content.xml" manifest:media-type="text/xml"/><manifest:file-entry manifest:full-'
         'path="styles.xml" manifest:media-type="text/xml"/><manifest:file-entry manifest:full-'
         'path="meta.xml" manifest:media-type="text/xml"/></manifest:manifest>' % mime),
    ])


odt = odf("text",
          '<text:p>Contrat de travail : Mme Chloé LEGRAND rejoint l\'équipe.</text:p>'
          '<text:p>NIR : <text:span>%s</text:span><text:span>%s</text:span></text:p>'
          '<table:table><table:table-row><table:table-cell><text:p>Coordonnées bancaires</text:p>'
          '</table:table-cell><table:table-cell><text:p>%s</text:p></table:table-cell>'
          '</table:table-row></table:table>'
          '<text:p>Paiement à échéance, carte %s, rappel %s.</text:p>'
          % (nir_sp[:6], nir_sp[6:], iban_sp, CARD, NIR),
          master='<style:master-page style:name="Standard"><style:header><text:p>Salarié '
                 '%s</text:p></style:header><style:footer><text:p>IBAN %s</text:p>'
                 '</style:footer></style:master-page>' % (nir_sp, IBAN))
ods = odf("spreadsheet",
          '<table:table table:name="Contrat"><table:table-row><table:table-cell office:value-'
          'type="string"><text:p>Coordonnées bancaires</text:p></table:table-cell><table:table-'
          'cell office:value-type="string"><text:p>%s</text:p></table:table-cell></table:table-'
          'row><table:table-row><table:table-cell office:value-type="string"><text:p>NIR '
          'échéance</text:p></table:table-cell><table:table-cell office:value-type="float" '
          'office:value="%s"><text:p>%s</text:p></table:table-cell></table:table-row>'
          '<table:table-row><table:table-cell office:value-type="string"><text:p>Paiement'
          '</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>'
          '<text:span>%s</text:span>%s</text:p></table:table-cell></table:table-row>'
          '</table:table>' % (iban_sp, NIR, "%.5E" % int(NIR), CARD[:8], CARD[8:]),
          master='<style:master-page style:name="Default"><style:header><text:p>Rappel %s'
                 '</text:p></style:header></style:master-page>' % IBAN)

office = {"contrat.docx": (docx, ["Contrat", "rejoint", "Coordonnées", "bancaires", "Paiement",
                                  "échéance"]),
          "tableau.xlsx": (xlsx, ["Coordonnées bancaires", "Paiement", "NIR échéance"]),
          "lettre.odt": (odt, ["Contrat", "rejoint", "Coordonnées", "bancaires", "Paiement",
                               "échéance"]),
          "feuille.ods": (ods, ["Coordonnées bancaires", "Paiement", "NIR échéance"])}
copies = []
for name, (data, words) in office.items():
    p, out = redact(put(name, data))
    text = xml_text(out) if p.returncode == 0 else ""
    common_checks(name, p, out, text, words=words)
    check("Legrand" not in text and "LEGRAND" not in text, "%s: the name is replaced" % name)
    if p.returncode == 0:
        copies.append(out)
        with zipfile.ZipFile(os.path.join(tmp, name)) as zi, zipfile.ZipFile(out) as zo:
            check(zi.namelist() == zo.namelist(), "%s: the same members in the same order" % name)
            if name.endswith((".odt", ".ods")):
                first = zo.infolist()[0]
                check(first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED,
                      "%s: mimetype first and stored" % name)
        # the same NIR, split or not, in the body and the header: one placeholder
        nirs = set(re.findall(r"\[NIR-\d\]", text))
        check(nirs == {"[NIR-1]"}, "%s: one NIR, one placeholder %s" % (name, sorted(nirs)))
    p2, out2 = redact(os.path.join(tmp, name), "--format", "text")
    t2 = open(out2, encoding="utf-8").read() if p2.returncode == 0 else ""
    common_checks(name + " --format text", p2, out2, t2, words=words[:1])

# xlsx: the number cell that held the NIR now holds a string
if os.path.exists(os.path.join(tmp, "out-tableau.xlsx")):
    with zipfile.ZipFile(os.path.join(tmp, "out-tableau.xlsx")) as z:
        s1 = z.read("xl/worksheets/sheet1.xml").decode()
    check('<c r="B2" t="str"><v>[NIR-1]</v></c>' in s1, "xlsx: the number cell became text")

soffice = shutil.which("libreoffice") or shutil.which("soffice")
if soffice and copies:
    pdfdir = os.path.join(tmp, "pdf")
    os.makedirs(pdfdir)
    env = dict(os.environ, HOME=os.path.join(tmp, "lohome"))
    lo = subprocess.run([soffice, "--headless", "--norestore", "--convert-to", "pdf", "--outdir",
                         pdfdir] + copies, capture_output=True, text=True, env=env, timeout=600)
    for c in copies:
        stem = os.path.splitext(os.path.basename(c))[0]
        pdfp = os.path.join(pdfdir, stem + ".pdf")
        ok = os.path.exists(pdfp) and os.path.getsize(pdfp) > 0
        check(ok, "%s: LibreOffice still converts it to PDF %s" % (c, "" if ok else lo.stderr))
        if not ok:
            continue
        t = subprocess.run(["pdftotext", "-layout", pdfp, "-"], capture_output=True,
                           text=True).stdout
        lk = leaks(t)
        check(not lk, "%s: no planted value in LibreOffice's PDF %s" % (c, lk[:3]))
        check("[" in t and "]" in t, "%s: placeholders in the PDF" % c)
else:
    # make check installs LibreOffice (Makefile DEPS_TEST): its absence is a failure.
    check(False, "LibreOffice converts the office copies (libreoffice not installed)")

finish(tmp)
