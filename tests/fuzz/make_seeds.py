#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz): OUT/<target>/<seed>.

    python3 tests/fuzz/make_seeds.py OUT

Standard library and tests/tools only; deterministic (fixed random seed), so a
corpus is never committed: it is rebuilt by whoever fuzzes. Each seed is small
(the short run caps inputs at -max_len) and carries made-up identifiers with
correct check digits, so the fuzzer starts from inputs that reach detection."""

import base64
import bz2
import gzip
import io
import json
import lzma
import os
import shutil
import sys
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import archfix  # noqa: E402
import pdfgen  # noqa: E402
import vgfix  # noqa: E402

OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "fuzz-seeds")
rng = vgfix.rng(9)
IBAN = vgfix.french_iban(rng)
NIR = vgfix.nir(rng)


def luhn_complete(body):
    s = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        s += d
    return body + str((10 - s % 10) % 10)


CARD = luhn_complete("497010" + "%09d" % rng.randrange(10 ** 9))
TEXT = ("Relevé d'identité bancaire\nIBAN : %s\nN° de sécurité sociale : %s\n"
        "Carte bancaire : %s\nContact : jeanne.martin@exemple.fr, 06 12 34 56 78\n"
        "CONFIDENTIEL - Diffusion restreinte\n"
        "Diagnostic : diabète de type 2, traitement par insuline, suivi en oncologie.\n"
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
        % (vgfix.spaced(IBAN), vgfix.nir_spaced(NIR), " ".join(CARD[i:i + 4] for i in range(0, 16, 4))))
SHORT = "Virement sur l'IBAN %s, NIR %s.\n" % (IBAN, NIR)


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def zip_of(members, method=zipfile.ZIP_DEFLATED):
    return archfix.zip_bytes([(n, d if isinstance(d, bytes) else d.encode()) for n, d in members],
                             method)


def tar_of(members):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for n, d in members:
            d = d if isinstance(d, bytes) else d.encode()
            ti = tarfile.TarInfo(n)
            ti.size = len(d)
            t.addfile(ti, io.BytesIO(d))
    return b.getvalue()


# ---- office documents: the committed LibreOffice fixtures, and small hand-made ones
def docx(body_xml):
    ct = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
          'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
          'officedocument.wordprocessingml.document.main+xml"/></Types>')
    doc = ('<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats'
           '.org/wordprocessingml/2006/main"><w:body>%s</w:body></w:document>' % body_xml)
    return zip_of([("[Content_Types].xml", ct), ("word/document.xml", doc)])


def xlsx():
    ct = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
          'package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/'
          'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>')
    ss = ('<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
          '<si><t>IBAN</t></si><si><t>%s</t></si></sst>' % IBAN)
    sheet = ('<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
             '2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v>'
             '</c><c r="C1"><v>%s</v></c><c r="D1" t="inlineStr"><is><t>NIR %s</t></is></c></row>'
             '</sheetData></worksheet>' % (CARD, NIR))
    wb = ('<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
          'main"><sheets><sheet name="S" sheetId="1"/></sheets></workbook>')
    return zip_of([("[Content_Types].xml", ct), ("xl/workbook.xml", wb),
                   ("xl/sharedStrings.xml", ss), ("xl/worksheets/sheet1.xml", sheet)])


def odt():
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:'
               'names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:'
               'xmlns:text:1.0"><office:body><office:text><text:p>IBAN<text:s text:c="3"/>%s</text:p>'
               '<text:p>NIR <text:span>%s</text:span></text:p></office:text></office:body>'
               '</office:document-content>' % (vgfix.spaced(IBAN), NIR))
    return zip_of([("mimetype", "application/vnd.oasis.opendocument.text"), ("content.xml", content)],
                  zipfile.ZIP_STORED)


def office():
    fx = os.path.join(ROOT, "tests", "integration", "office")
    for n in sorted(os.listdir(fx)):
        if n.endswith((".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp")):
            shutil.copy(os.path.join(fx, n), os.path.join(OUT, "scan_office", n))
    put("scan_office", "mini.docx", docx('<w:p><w:r><w:t>IBAN %s</w:t></w:r><w:r><w:tab/><w:t xml:space='
                                         '"preserve"> NIR %s</w:t></w:r></w:p>' % (IBAN, NIR)))
    put("scan_office", "mini.xlsx", xlsx())
    put("scan_office", "mini.odt", odt())
    put("scan_office", "entity.docx", docx('<w:p><w:r><w:t>&amp;&lt;&#233;&#x20AC; %s</w:t></w:r></w:p>'
                                           % IBAN))


def markup():
    fx = os.path.join(ROOT, "tests", "integration", "office")
    for n in ("lo-writer.rtf", "lo-writer.html"):
        shutil.copy(os.path.join(fx, n), os.path.join(OUT, "scan_markup", n))
    put("scan_markup", "mini.rtf",
        "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Arial;}}{\\*\\generator x;}"
        "\\f0\\fs20 Relev\\'e9 : IBAN %s\\par\\u233?t\\u233? NIR {\\b %s}\\par"
        "{\\pict\\pngblip 89504e47}{\\field{\\*\\fldinst HYPERLINK \"x\"}{\\fldrslt lien}}}"
        % (vgfix.spaced(IBAN), vgfix.nir_spaced(NIR)))
    put("scan_markup", "mini.html",
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>RIB</title><style>p{}</style>"
        "<script>var x='%s';</script></head><body><p>IBAN&nbsp;: %s &eacute;&#233;&#xE9;</p>"
        "<table><tr><td>NIR</td><td>%s</td></tr></table><!-- %s --><a href=\"mailto:a@b.fr\" "
        "title=\"%s\">x</a></body></html>" % (CARD, vgfix.spaced(IBAN), NIR, IBAN, CARD))
    put("scan_markup", "latin1.html", ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html;"
                                       " charset=iso-8859-1\"></head><body>Relevé %s</body></html>"
                                       % IBAN).encode("latin-1"))
    put("scan_markup", "page.xhtml", "<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml"
                                     "\"><body><p>%s</p></body></html>" % IBAN)


def pdf():
    put("scan_pdf", "plain.pdf", pdfgen.document([["Relevé", "IBAN " + vgfix.spaced(IBAN)]]))
    put("scan_pdf", "flate.pdf", pdfgen.document([["NIR " + vgfix.nir_spaced(NIR)], ["suite"]],
                                                 flate=True))
    tu = "Carte " + CARD
    put("scan_pdf", "tounicode.pdf", pdfgen.document([[[("F2", tu)]]],
                                                     fonts={"F2": lambda d: pdfgen.ToUnicode(d, tu)}))
    put("scan_pdf", "japanese.pdf", pdfgen.document([[[("F3", "振込先口座 " + IBAN)]]],
                                                    fonts={"F3": pdfgen.Japanese}))
    put("scan_pdf", "info-annot.pdf", pdfgen.document([["Contrat"]], info={"Title": "NIR " + NIR},
                                                      annots={0: ["IBAN " + IBAN]}))
    # for the fast path (scanners/pdf_fast.c): object and xref streams, kerned
    # TJ arrays, Type0 with ToUnicode, positioning on a line
    kern = ("[(IBAN %s) -12 (%s)] TJ" % (vgfix.spaced(IBAN)[:7], vgfix.spaced(IBAN)[7:])).encode()
    put("scan_pdf", "compact.pdf", pdfgen.document(
        [[[("F1", kern)], [("F2", tu)]], ["NIR " + vgfix.nir_spaced(NIR)]], flate=True,
        fonts={"F2": lambda d: pdfgen.ToUnicode(d, tu)}, info={"Title": "Paie", "Author": "RH"},
        compact=True))
    put("scan_pdf", "positions.pdf", pdfgen.document([["x"]], content={0: (
        "q 0.5 0 0 0.5 0 0 cm BT /F1 22 Tf 144 1400 Td (IBAN) Tj 60 0 Td (%s) Tj 14 TL T* "
        "0.2 Tc 1 Tw (NIR %s) ' ET Q" % (vgfix.spaced(IBAN), vgfix.nir_spaced(NIR))).encode()}))
    put("scan_pdf", "attach.pdf", pdfgen.document([["Voir PJ"]],
                                                  attachments=[("rib.txt", SHORT.encode())],
                                                  annot_files={0: [("n.txt", SHORT.encode())]}))


def mail():
    put("scan_mime", "plain.eml", "From: a@exemple.fr\nTo: b@exemple.fr\nSubject: RIB\n"
                                  "Date: Mon, 2 Jan 2026 10:00:00 +0100\n\n" + TEXT)
    att = base64.encodebytes(zip_of([("rib.txt", SHORT)])).decode()
    put("scan_mime", "multipart.eml",
        "From: =?iso-8859-1?q?J=E9r=F4me?= <j@exemple.fr>\nTo: b@exemple.fr\n"
        "Subject: =?utf-8?b?UmVsZXbDqQ==?=\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"XX\"\n\n--XX\n"
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
        "IBAN FR76 =\n" + IBAN[4:] + " =C3=A9t=C3=A9\n--XX\n"
        "Content-Type: text/html; charset=iso-8859-1\n\n<p>NIR " + NIR + "</p>\n--XX\n"
        "Content-Type: application/zip\nContent-Transfer-Encoding: base64\n"
        "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.zip\n\n" + att + "--XX--\n")
    inner = "From: c@exemple.fr\nSubject: fwd\n\nNIR " + NIR + "\n"
    put("scan_mime", "nested.eml",
        "From: a@exemple.fr\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b1\n\n"
        "--b1\nContent-Type: multipart/related; boundary=b2\n\n--b2\nContent-Type: message/rfc822\n\n"
        + inner + "--b2--\n--b1\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(SHORT.encode()).decode() + "--b1--\n")
    uu = "begin 644 rib.txt\n"
    raw = SHORT.encode()
    for i in range(0, len(raw), 45):
        chunk = raw[i:i + 45]
        line = bytes([32 + len(chunk)])
        import binascii
        line = binascii.b2a_uu(chunk)
        uu += line.decode()
    uu += "`\nend\n"
    put("scan_mime", "uuencode.eml", "From: a@exemple.fr\nSubject: uu\n\nVoici:\n" + uu)
    put("scan_mime", "partial.eml", "From: a@exemple.fr\nMIME-Version: 1.0\nContent-Type: "
                                    "message/partial; id=\"x\"; number=1; total=2\n\n" + SHORT)
    put("scan_mime", "tnef.eml", "From: a@exemple.fr\nMIME-Version: 1.0\nContent-Type: multipart/"
                                 "mixed; boundary=q\n\n--q\nContent-Type: application/ms-tnef; "
                                 "name=winmail.dat\nContent-Transfer-Encoding: base64\n\n"
                                 + base64.encodebytes(b"\x78\x9f\x3e\x22" + b"\0" * 32).decode()
                                 + "--q--\n")


def archives():
    members = [("dossier/rib.txt", SHORT), ("note.csv", "nom;iban\nMartin;%s\n" % IBAN)]
    put("scan_archive", "deflate.zip", zip_of(members))
    put("scan_archive", "stored.zip", zip_of(members, zipfile.ZIP_STORED))
    put("scan_archive", "nested.zip", zip_of([("in.zip", zip_of(members)), ("x.txt", "rien")]))
    put("scan_archive", "hidden.zip", archfix.zip_hide(zip_of(members + [("b.txt", "b")]), 0))
    put("scan_archive", "overlap.zip", archfix.zip_overlap_quoted("secret.txt", SHORT.encode()))
    put("scan_archive", "concat.zip", zip_of([("ok.txt", "rien")]) + zip_of(members))
    t = tar_of(members)
    put("scan_archive", "plain.tar", t)
    put("scan_archive", "plain.tar.gz", gzip.compress(t, mtime=0))
    put("scan_archive", "rib.txt.gz", gzip.compress(SHORT.encode(), mtime=0))
    put("scan_archive", "rib.txt.bz2", bz2.compress(SHORT.encode()))
    put("scan_archive", "rib.txt.xz", lzma.compress(SHORT.encode()))
    put("scan_archive", "plain.tar.xz", lzma.compress(t))
    put("scan_archive", "rar4.rar", archfix.rar4([("rib.txt", SHORT.encode())]))
    put("scan_archive", "rar5.rar", archfix.rar5([("rib.txt", SHORT.encode())]))
    put("scan_archive", "enc.rar", archfix.rar4([("rib.txt", SHORT.encode())], encrypted=True))
    put("scan_archive", "docx-in.zip", zip_of([("a.docx", docx("<w:p><w:r><w:t>%s</w:t></w:r></w:p>"
                                                                % IBAN))]))
    for n in ("deflate.zip", "hidden.zip", "overlap.zip", "concat.zip", "stored.zip"):
        shutil.copy(os.path.join(OUT, "scan_archive", n), os.path.join(OUT, "zip_map", n))
    put("zip_map", "stub.zip", b"MZ" + b"\0" * 62 + zip_of(members))
    put("zip_map", "empty.zip", zip_of([]))


def text():
    put("scan_text", "utf8.txt", TEXT)
    put("scan_text", "utf16le.txt", b"\xff\xfe" + TEXT.encode("utf-16-le"))
    put("scan_text", "utf16be.txt", b"\xfe\xff" + TEXT.encode("utf-16-be"))
    put("scan_text", "cp1252.txt", TEXT.replace("’", "'").encode("cp1252"))
    put("scan_text", "data.csv", "nom;prenom;iban;nir\nMartin;Jeanne;%s;%s\n" % (IBAN, NIR))
    put("scan_text", "data.json", json.dumps({"iban": IBAN, "nir": NIR, "carte": CARD}))
    put("scan_text", "mixed.txt", b"ok \xe9t\xe9 " + IBAN.encode() + b" \xc3\xa9 \xed\xa0\x80 \x00 "
                                  + NIR.encode())
    put("detect", "all.txt", TEXT)
    put("detect", "compact.txt", SHORT)
    put("detect", "secrets.txt", "AKIAIOSFODNN7EXAMPLE\nghp_" + "a1B2" * 9 + "\n-----BEGIN RSA PRIVATE"
                                 " KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n"
                                 "xoxb-123456789012-123456789012-abcdefABCDEF123456\n")
    put("detect", "custom.txt", "Client CL-123456, carte %s (cb), projet Atlas, nom de code fusion, "
                                "TRES SECRET MAISON\n" % CARD)
    put("detect", "near.txt", "FR76 3000 6000 0112 3456 7890 189\n1 85 05 78 006 084 36\n"
                              "+33 6 12 34 56 78 / 01.23.45.67.89\nSIRET 732 829 320 00074\n")
    for n, b in (("utf8", b"\x05\x03" + TEXT.encode()), ("utf16le", b"\x01\x07" + TEXT.encode("utf-16-le")),
                 ("utf16be", b"\x02\x05" + TEXT.encode("utf-16-be")),
                 ("cp1252", b"\x03\x0b" + TEXT.replace("’", "'").encode("cp1252")),
                 ("sniff-bom", b"\x04\x10\xff\xfe" + TEXT.encode("utf-16-le")),
                 ("label", b"\x04\x02windows-1252\x00" + SHORT.encode()),
                 ("surrogates", b"\x01\x03" + b"\x00\xd8\x41\x00\x3d\xd8\x00\xde\x00\xdc")):
        put("charset", n, b)


def config():
    with open(os.path.join(ROOT, "etc", "vigie.conf"), "rb") as f:
        put("config", "vigie.conf", f.read())
    put("config", "routes.conf", """
limits = { max_file_size = "10M"; max_scan_time = 5; };
routes = (
  { name = "ia"; watch = "/srv/partage/vers-ia"; deliver = "/srv/ia/entree"; mode = "gate";
    policy = "strict"; },
  { name = "mail"; type = "mail"; relay = "127.0.0.1:25"; policy = "default"; }
);
policies = {
  default = { iban = 1; nir = 1; unscannable = "hold"; };
  strict = { iban = 1; nir = 1; email = 5; monitor = false; };
};
alerts = { mail = { to = [ "admin@exemple.fr" ]; }; webhook = { url = "https://chat.exemple.fr/h"; }; };
""")
    put("config", "bad.conf", "limits = { max_ratio = 1; max_file_size = \"12Q\"; };\nroutes = ( { } );\n")
    put("rules", "rules.conf", """
rules = (
  { id = "matricule"; pattern = "EMP-[0-9]{5}"; validator = "luhn"; threshold = 2;
    context = [ "matricule", "employé" ]; window = 40; },
  { id = "vieux_code"; enabled = false; },
  { id = "clients"; dictionary = "clients.txt"; show = "value"; },
  { id = "codes"; terms = [ "projet orion", "nom de code" ]; },
  { id = "cle_interne"; pattern = "KEY-[A-Z]{8}"; show = "hidden"; validator = "iban"; }
);
markings = [ "Projet Orion - diffusion limitée" ];
health = { threshold = 4; };
""")
    put("rules", "bad.conf", "rules = (\n  { id = \"x1\";\n    pattern = \"[0-9]+\"; }\n);\n")
    put("rules", "nested.conf", "rules = ( { id = \"a\"; pattern = \"(?:a(?:b(?:c|d){2}){1,3})x\"; } );\n")


def control():
    for i, req in enumerate([
            {"verb": "status"}, {"verb": "list", "route": "ia", "since": 1700000000},
            {"verb": "show", "id": "20260101-abcdef"},
            {"verb": "release", "id": "x", "reason": "ok", "to": "/tmp/x", "allow": True},
            {"verb": "delete", "id": "x", "reason": "é"}, {"verb": "purge", "older_than": 86400},
            {"verb": "reload"}, {"verb": "test-alert"}, {"verb": 3}, []]):
        put("control", "req%02d" % i, json.dumps(req) + "\n")
    put("control", "utf8-escape", '{"verb":"show","id":"\\u00e9\\ud83d\\ude00"}\n')


for t in ("scan_mime", "scan_office", "scan_markup", "scan_pdf", "scan_archive", "scan_text", "detect",
          "charset", "zip_map", "config", "rules", "control"):
    shutil.rmtree(os.path.join(OUT, t), ignore_errors=True)
    os.makedirs(os.path.join(OUT, t))
office()
markup()
pdf()
mail()
archives()
text()
config()
control()
n = sum(len(fs) for _, _, fs in os.walk(OUT))
print("make_seeds: %d seeds under %s" % (n, OUT))
