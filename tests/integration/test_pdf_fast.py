"""The PDF fast path (scanners/pdf_fast.c) against poppler: every PDF below is
scanned three times, with VIGIE_PDF_FAST=off (poppler alone, the slow path),
=only (the fast path alone: a PDF it is unsure of comes out unscannable
`unsupported`) and unset (the fast path, poppler when it is unsure). The default
scan must give exactly the slow path's findings (detector, count, distinct,
masked samples, where), verdict and unscannable reasons on every PDF; the fast
path alone must give them too wherever it takes the file. The PDFs meant for
the fast path must be taken by it (a fast path that always fell back would pass
the first check and be worthless), and the ones it must not read (encrypted,
attachments, notes, forms, Type3, other filters, broken xref, rotated or
out-of-order text...) must fall back.

PDFs: those test_pdf.py makes, corpus-style ones (tests/bench/gen_corpus.py),
identifiers split over several Tj/TJ with kerning on both sides of poppler's
word-break threshold, Type0 fonts with ToUnicode and widths, /Differences,
standard encodings, scaled and spaced text, object and xref streams (qpdf),
incremental updates, multi-page, and LibreOffice-made PDFs when LibreOffice is
installed."""

import os
import shutil
import subprocess
import sys
import zlib

from common import args, check, finish, no_leak, scratch, vgfix

import pdfgen  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import gen_corpus  # noqa: E402

a = args()
tmp = scratch("pdf-fast")
rng = vgfix.rng(1010)
vigiectl = os.path.join(a.build, "vigiectl")
planted = []

FAST, SLOW, EITHER = "fast", "fallback", "either"
cases = []  # (path, expectation)


def put(name, data, expect):
    p = os.path.join(tmp, name)
    with open(p, "wb") as f:
        f.write(data)
    cases.append((p, expect))
    return p


def iban():
    v = vgfix.french_iban(rng)
    planted.append(v)
    return v


def nir():
    v = vgfix.nir(rng)
    planted.append(v)
    return v


def card():
    body = "4970" + "".join(str(rng.randrange(10)) for _ in range(11))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    v = body + str((10 - total % 10) % 10)
    planted.append(v)
    return v


def g4(s):
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4))


def lit(s):
    return pdfgen._lit(s)


# --- what test_pdf.py makes -------------------------------------------------------
sp_iban, sp_nir = vgfix.spaced(iban()), vgfix.nir_spaced(nir())
put("three.pdf", pdfgen.document([["Relevé de compte", "IBAN : " + sp_iban],
                                  ["Page deux, rien de sensible.", "Total : 1 234,56 EUR"],
                                  ["Salarié", "N° de sécurité sociale : " + sp_nir]]), FAST)
sp_c = vgfix.nir_spaced(nir())
put("pages.pdf", pdfgen.document([["Fin de page " + sp_c[:10]], [sp_c[10:] + " suite"]]), FAST)
put("une-page.pdf", pdfgen.document([[[("F1", "Fin de page " + sp_c[:10]),
                                       ("F1", sp_c[10:] + " suite")]]]), FAST)
put("compresse.pdf", pdfgen.document([["Relevé", "IBAN " + sp_iban], ["suite"], ["NIR " + sp_nir]],
                                     flate=True), FAST)
tu_text = "Compte " + sp_iban
put("tounicode.pdf", pdfgen.document([[[("F2", tu_text)]]],
                                     fonts={"F2": lambda d: pdfgen.ToUnicode(d, tu_text)}), FAST)
tj_iban = ("[(IBAN %s) -12 (%s)] TJ" % (sp_iban[:7], sp_iban[7:])).encode()
put("coupe.pdf", pdfgen.document([[[("F1", "NIR " + sp_nir[:6]), ("F1", sp_nir[6:])],
                                   [("F1", tj_iban)]]]), FAST)
put("info.pdf", pdfgen.document([["Note de service"]],
                                info={"Title": "RIB " + sp_iban, "Subject": "paie",
                                      "Keywords": "salarié " + sp_nir}), FAST)
bad_iban = sp_iban[:-1] + str((int(sp_iban[-1]) + 1) % 10)
put("negatif.pdf", pdfgen.document([["IBAN " + bad_iban, "Facture 2024-0117, commande 4411 2233"]],
                                   flate=True, info={"Title": "IBAN " + bad_iban}), FAST)
for i in range(5):
    body = [["Compte rendu n° %d" % i, "Rien de particulier."]]
    if i % 2 == 0:
        body[0].append("IBAN " + vgfix.spaced(iban()))
    put("cr-%d.pdf" % i, pdfgen.document(body, flate=True), FAST)
row = "0123456789 ABCDEFGHIJ abcdefghij 0123456789 ABCDEFGHIJ abcdefghij 0123456789 ABCD"
put("dense.pdf", pdfgen.document([[row] * 50] * 20, flate=True), FAST)

# --- corpus-style (the benchmark's generator) ----------------------------------------
g = gen_corpus.Gen(4242)
for i in range(24):
    cats = [["iban"], ["nir"], ["card"], ["contacts"], ["marking"], ["health"], [], ["iban", "nir"]][i % 8]
    size = [3000, 12000, 40000][i % 3]
    put("corpus-%02d.pdf" % i, gen_corpus.pdf(gen_corpus.text_with(g, size, cats), "Note %d" % i,
                                              flate=i % 3 != 0), FAST)

# --- identifiers split over operators, kerning around the word-break threshold -----
c = card()
for k in [-12, -40, -60, 30, 80, -95, -100, -105, -150, -250, -400]:
    i1, n1 = vgfix.spaced(iban()), vgfix.nir_spaced(nir())
    tj1 = ("[(IBAN %s) %d (%s)] TJ" % (i1[:9], k, i1[9:])).encode()
    tj2 = ("[(Carte %s) %d (%s)] TJ" % (g4(c)[:7], k, g4(c)[7:])).encode()
    tj3 = ("[(NIR %s) %d (%s)] TJ" % (n1[:5].replace(" ", ""), k, n1[5:])).encode()
    tj4 = ("[(%s) %d (%s)] TJ" % (i1.replace(" ", "")[:10], k, i1.replace(" ", "")[10:])).encode()
    # -40 and beyond -60 (in thousandths of 11 pt) are clear of the guard band
    # around poppler's 0.1 em threshold; -95..-105 are inside it
    expect = SLOW if -120 < k < -60 else FAST
    put("kern%+d.pdf" % k, pdfgen.document([[[("F1", tj1)], [("F1", tj2)], [("F1", tj3)],
                                              [("F1", tj4)]]], flate=True), expect)
i2, n2 = vgfix.spaced(iban()), vgfix.nir_spaced(nir())
put("multi-tj.pdf", pdfgen.document([[[("F1", "IBAN "), ("F1", i2[:4]), ("F1", i2[4:12]),
                                       ("F1", i2[12:])],
                                      [("F1", "NIR"), ("F1", " " + n2[:1]), ("F1", n2[1:9]),
                                       ("F1", n2[9:])]]]), FAST)

# --- Type0 + ToUnicode with widths, several runs on one line -------------------------
i3 = vgfix.spaced(iban())
alpha = "IBAN " + i3 + " Carte" + g4(c)


class WidthsToUnicode(pdfgen.ToUnicode):
    def __init__(self, doc, alphabet):
        super().__init__(doc, alphabet)
        # a /W array on the descendant, as LibreOffice writes it
        cid = doc.objs[self.ref - 2]
        doc.objs[self.ref - 2] = cid.replace(b"/DW 500", b"/DW 600 /W [1024 [500 520 540] 1100 1200 480]")


put("type0.pdf", pdfgen.document([[[("F2", "IBAN "), ("F2", i3[:9]), ("F2", i3[9:])],
                                   [("F2", "Carte " + g4(c))]]],
                                 fonts={"F2": lambda d: WidthsToUnicode(d, alpha)}, flate=True), FAST)

# --- /Differences and standard encodings ---------------------------------------------
i4 = iban().replace(" ", "")


def differences_doc(text, base14="Helvetica"):
    """Digits drawn with codes A..J renamed /zero../nine by /Differences."""
    doc = pdfgen.Pdf()
    cat, pages = doc.reserve(), doc.reserve()
    diffs = b"/Differences [65 /zero /one /two /three /four /five /six /seven /eight /nine]"
    font = doc.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding << /BaseEncoding "
                   b"/WinAnsiEncoding %s >> >>" % (base14.encode(), diffs))
    coded = "".join(chr(65 + int(ch)) if ch.isdigit() else ch for ch in text)
    content = doc.stream(b"", b"BT /F1 11 Tf 72 700 Td " + lit(coded.replace("A", "A")) + b" Tj ET",
                         flate=True)
    page = doc.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources << /Font "
                   b"<< /F1 %d 0 R >> >> /Contents %d 0 R >>" % (pages, font, content))
    doc.set(pages, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    doc.set(cat, b"<< /Type /Catalog /Pages %d 0 R >>" % pages)
    return doc.build(cat)


put("differences.pdf", differences_doc("iban fr" + i4[2:4] + " " + g4(i4[4:]).lower()), FAST)
put("differences-times.pdf", differences_doc("iban fr" + i4[2:4] + " " + g4(i4[4:]).lower(),
                                             "Times-Roman"), FAST)


def simple_doc(content, font=b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               page_extra=b"", catalog_extra=b"", flate=True, extra_objs=()):
    doc = pdfgen.Pdf()
    cat, pages = doc.reserve(), doc.reserve()
    f = doc.add(font)
    refs = [doc.add(o) for o in extra_objs]
    cs = doc.stream(b"", content, flate=flate)
    page = doc.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources << /Font "
                   b"<< /F1 %d 0 R >> /XObject << /X1 %s >> >> /Contents %d 0 R%s >>"
                   % (pages, f, b"%d 0 R" % refs[0] if refs else b"null", cs, page_extra))
    doc.set(pages, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    doc.set(cat, b"<< /Type /Catalog /Pages %d 0 R%s >>" % (pages, catalog_extra))
    return doc.build(cat)


i5, n5 = vgfix.spaced(iban()), vgfix.nir_spaced(nir())
for base in ["Helvetica", "Times-Roman", "Courier", "Helvetica-Bold"]:
    put("standard-%s.pdf" % base, simple_doc(
        b"BT /F1 10 Tf 72 700 Td (IBAN %s) Tj 0 -14 Td (NIR %s) Tj ET" % (i5.encode(), n5.encode()),
        font=b"<< /Type /Font /Subtype /Type1 /BaseFont /%s >>" % base.encode()), FAST)

# --- positioning: Td on a line, Tm, cm, Tc, Tw, TL, quotes -------------------------
put("positions.pdf", simple_doc(
    b"BT /F1 11 Tf 1 0 0 1 72 700 Tm (IBAN) Tj 30 0 Td (%s) Tj 14 TL T* (NIR) ' "
    b"2 0.2 (%s) \" ET" % (i5.encode(), n5.encode())), EITHER)
put("scaled.pdf", simple_doc(
    b"q 0.5 0 0 0.5 0 0 cm BT /F1 22 Tf 144 1400 Td (IBAN %s) Tj 0 -30 Td (NIR %s) Tj ET Q"
    % (i5.encode(), n5.encode())), FAST)
put("spacing.pdf", simple_doc(
    b"BT /F1 11 Tf 72 700 Td 0.3 Tc 2 Tw (IBAN %s) Tj 0 -16 Td 0 Tc 0 Tw (NIR %s) Tj ET"
    % (i5.encode(), n5.encode())), FAST)
put("same-line-td.pdf", simple_doc(
    b"BT /F1 11 Tf 72 700 Td (IBAN) Tj 29 0 Td (%s) Tj -29 -14 Td (NIR) Tj 25 0 Td (%s) Tj ET"
    % (i5.encode()[:9], n5.encode())), EITHER)

# --- multi-page, object streams and xref streams (qpdf), incremental update ----------
multi = pdfgen.document([["Page %d" % i, "IBAN " + vgfix.spaced(iban()) if i % 3 == 0 else "rien",
                          "Tél. 01 %02d 45 67 89" % i] for i in range(12)], flate=True,
                        info={"Title": "Dossier", "Author": "Bureau"})
mp = put("multipage.pdf", multi, FAST)
# object streams and a cross-reference stream with a PNG predictor (pdfgen)
put("compact.pdf", pdfgen.document([["Page %d" % i, "IBAN " + vgfix.spaced(iban()), "suite"]
                                    for i in range(3)], flate=True, info={"Title": "Paie"},
                                   fonts={"F2": lambda d: pdfgen.ToUnicode(d, tu_text)},
                                   compact=True), FAST)
put("compact-type0.pdf", pdfgen.document([[[("F2", tu_text)]]],
                                         fonts={"F2": lambda d: pdfgen.ToUnicode(d, tu_text)},
                                         compact=True), FAST)
qpdf = shutil.which("qpdf")
if qpdf:
    for src in ["multipage.pdf", "type0.pdf", "three.pdf", "info.pdf", "corpus-01.pdf"]:
        out = os.path.join(tmp, "objstm-" + src)
        r = subprocess.run([qpdf, "--object-streams=generate", os.path.join(tmp, src), out],
                           capture_output=True)
        check(r.returncode == 0, "qpdf wrote object streams for %s" % src)
        cases.append((out, FAST))
    out = os.path.join(tmp, "qdf-three.pdf")
    subprocess.run([qpdf, "--qdf", os.path.join(tmp, "three.pdf"), out], capture_output=True)
    cases.append((out, FAST))
else:
    check(False, "qpdf is installed (Debian package qpdf)")

base = pdfgen.document([["Premier jet"], ["IBAN " + vgfix.spaced(iban())]], flate=True,
                       info={"Title": "v1"})
startxref = int(base.rsplit(b"startxref", 1)[1].split()[0])
size = int(base.split(b"/Size ", 1)[1].split()[0])
root = int(base.split(b"/Root ", 1)[1].split()[0])
upd_off = len(base)
title = pdfgen._utf16("NIR " + vgfix.nir_spaced(nir()))
add = b"%d 0 obj\n<< /Title %s >>\nendobj\n" % (size, title)
xref_off = upd_off + len(add)
add += (b"xref\n0 1\n0000000000 65535 f \n%d 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root %d 0 R"
        b" /Info %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
        % (size, upd_off, size + 1, root, size, startxref, xref_off))
put("increment.pdf", base + add, FAST)

# a link whose text poppler-glib reads (LibreOffice writes footnote links so)
doc = pdfgen.Pdf()
cat_, pages_ = doc.reserve(), doc.reserve()
font_ = doc.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
cs_ = doc.stream(b"", b"BT /F1 11 Tf 72 700 Td (Voir la note) Tj ET", flate=True)
page_ = doc.reserve()
link_ = doc.add(b"<< /Type /Annot /Subtype /Link /Border [0 0 0] /Rect [72 690 140 712] /Contents "
                + pdfgen._utf16("RIB " + vgfix.spaced(iban())) + b" /Dest [%d 0 R /XYZ 0 800 0] >>"
                % page_)
doc.set(page_, b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources << /Font << "
                b"/F1 %d 0 R >> >> /Contents %d 0 R /Annots [%d 0 R] >>" % (pages_, font_, cs_, link_))
doc.set(pages_, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page_)
doc.set(cat_, b"<< /Type /Catalog /Pages %d 0 R >>" % pages_)
put("link.pdf", doc.build(cat_), FAST)

# --- where the fast path must fall back ----------------------------------------------
i6, n6 = vgfix.spaced(iban()), vgfix.nir_spaced(nir())
put("annot-note.pdf", pdfgen.document([["Contrat"]], annots={0: ["Vérifier le NIR " + n6]}), SLOW)
put("attach.pdf", pdfgen.document([["Voir la pièce jointe"]],
                                  attachments=[("rib.txt", ("IBAN " + i6).encode())]), SLOW)
put("attach-annot.pdf", pdfgen.document([["Courrier"]],
                                        annot_files={0: [("rib.txt", ("RIB " + i6).encode())]}), SLOW)
put("japanese.pdf", pdfgen.document([[[("F3", "振込先口座 " + i6)]]], fonts={"F3": pdfgen.Japanese}),
    SLOW)
line = b"BT /F1 11 Tf 72 700 Td (IBAN %s) Tj ET" % i6.encode()
put("acroform.pdf", simple_doc(line, catalog_extra=b" /AcroForm << /Fields [] >>"), SLOW)
put("rotated.pdf", simple_doc(line, page_extra=b" /Rotate 90"), SLOW)
put("type3.pdf", simple_doc(line, font=b"<< /Type /Font /Subtype /Type3 /FontBBox [0 0 1 1] "
                            b"/FontMatrix [0.001 0 0 0.001 0 0] /CharProcs << >> /Encoding "
                            b"<< /Differences [32 /space] >> /FirstChar 32 /LastChar 32 "
                            b"/Widths [250] >>"), SLOW)
put("invisible.pdf", simple_doc(b"BT 3 Tr /F1 11 Tf 72 700 Td (IBAN %s) Tj ET" % i6.encode()), SLOW)
put("upwards.pdf", simple_doc(b"BT /F1 11 Tf 72 700 Td (NIR %s) Tj 0 20 Td (IBAN %s) Tj ET"
                              % (n6.encode(), i6.encode())), SLOW)
put("columns.pdf", simple_doc(b"BT /F1 11 Tf 72 700 Td (Nom Dupont) Tj 250 0 Td (IBAN %s) Tj ET"
                              % i6.encode()), SLOW)
put("overprint.pdf", simple_doc(b"BT /F1 10 Tf 1 0 0 1 100 400 Tm " +
                                b" ".join(b"(%08dA) Tj 0 0 Td" % k for k in range(50)) + b" ET"), SLOW)
put("letters.pdf", simple_doc(b"BT /F1 11 Tf 72 700 Td (A B C D) Tj 0 -14 Td (IBAN %s) Tj ET"
                              % i6.encode()), SLOW)
put("off-page.pdf", simple_doc(b"BT /F1 11 Tf 500 700 Td (IBAN %s) Tj ET" % i6.encode()), SLOW)
put("actualtext.pdf", simple_doc(b"/Span << /ActualText (x) >> BDC BT /F1 11 Tf 72 700 Td "
                                 b"(IBAN %s) Tj ET EMC" % i6.encode()), SLOW)
put("inline-image.pdf", simple_doc(b"q 10 0 0 10 50 50 cm BI /W 1 /H 1 /CS /G /BPC 8 ID \x80 EI Q "
                                   + line), SLOW)
put("form-xobject.pdf", simple_doc(b"q /X1 Do Q " + line, extra_objs=[
    b"<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Length 44 >>\nstream\n"
    b"BT /F1 11 Tf 72 600 Td (NIR %s) Tj ET" % n6.replace(" ", "").encode()[:15] +
    b"\nendstream"]), SLOW)
hexed = zlib.compress(line).hex().encode() + b">"
doc = pdfgen.Pdf()
cat_, pages_ = doc.reserve(), doc.reserve()
font_ = doc.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
cs_ = doc.add(b"<< /Filter [/ASCIIHexDecode /FlateDecode] /Length %d >>\nstream\n" % len(hexed) +
              hexed + b"\nendstream")
page_ = doc.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources << /Font << "
                b"/F1 %d 0 R >> >> /Contents %d 0 R >>" % (pages_, font_, cs_))
doc.set(pages_, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page_)
doc.set(cat_, b"<< /Type /Catalog /Pages %d 0 R >>" % pages_)
put("asciihex.pdf", doc.build(cat_), SLOW)
ok = pdfgen.document([["IBAN " + i6]], flate=True)
first = b"%010d 00000 n" % ok.index(b"1 0 obj")
put("bad-xref.pdf", ok.replace(first, b"%010d 00000 n" % (ok.index(b"1 0 obj") + 10)), SLOW)
put("no-eof.pdf", ok[:-7], SLOW)
put("bad-length.pdf", ok.replace(b"/Length ", b"/Length 1", 1), SLOW)
if qpdf:
    src = os.path.join(tmp, "three.pdf")
    for name, extra in [("enc-user.pdf", ["motdepasse", "proprietaire", "256"]),
                        ("enc-owner.pdf", ["", "proprietaire", "256"])]:
        out = os.path.join(tmp, name)
        r = subprocess.run([qpdf, "--encrypt", *extra, "--", src, out], capture_output=True)
        check(r.returncode == 0, "qpdf wrote %s" % name)
        cases.append((out, SLOW))

# --- LibreOffice-made PDFs ------------------------------------------------------------
soffice = shutil.which("libreoffice") or shutil.which("soffice")
if soffice:
    lo = os.path.join(tmp, "lo")
    os.makedirs(lo)
    i7, n7 = vgfix.spaced(iban()), vgfix.nir_spaced(nir())
    with open(os.path.join(lo, "lettre.txt"), "w") as f:
        f.write("Relevé de compte\nIBAN : %s\nN° de sécurité sociale : %s\nTéléphone : 01 23 45 67"
                " 89\n\n%s\n" % (i7, n7, " ".join(["Une phrase assez longue pour aller à la ligne"
                                                    " dans le traitement de texte."] * 12)))
    with open(os.path.join(lo, "fiche.html"), "w") as f:
        f.write("<html><body><h1>Fiche</h1><p>IBAN <b>%s</b></p><table border=1><tr><td>Nom</td>"
                "<td>NIR</td></tr><tr><td>Dupont</td><td>%s</td></tr></table></body></html>"
                % (i7, n7))
    srcs = [os.path.join(lo, "lettre.txt"), os.path.join(lo, "fiche.html")]
    office = os.path.join(a.source, "tests", "integration", "office")
    for name in sorted(os.listdir(office)):
        if name.startswith("lo-") and not name.endswith(".json"):
            dst = os.path.join(lo, name.replace(".", "_") + "." + name.rsplit(".", 1)[1])
            shutil.copy(os.path.join(office, name), dst)
            srcs.append(dst)
    r = subprocess.run([soffice, "--headless", "--norestore",
                        "-env:UserInstallation=file://%s/profile" % lo, "--convert-to", "pdf",
                        "--outdir", os.path.join(lo, "pdf")] + srcs, capture_output=True, timeout=300)
    made = sorted(os.listdir(os.path.join(lo, "pdf"))) if os.path.isdir(os.path.join(lo, "pdf")) else []
    check(len(made) == len(srcs), "LibreOffice made %d PDFs of %d" % (len(made), len(srcs)))
    for name in made:
        cases.append((os.path.join(lo, "pdf", name), FAST if name == "lettre.pdf" else EITHER))
else:
    print("skip - LibreOffice is not installed: no LibreOffice-made PDFs")


# --- generated pages: identifiers cut at random, kerning, Tc, font changes, moves ------
# Many PDFs the fast path will not take (moves up, near-threshold gaps); all must
# come out as poppler's. This is how the glyph-box and font-change rules were found.
class Courier(pdfgen.Font):
    def __init__(self, doc):
        self.ref = doc.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier "
                           b"/Encoding /WinAnsiEncoding >>")


def random_ident():
    k = rng.random()
    if k < 0.3:
        v = iban()
        return rng.choice([v, vgfix.spaced(v)])
    if k < 0.6:
        v = nir()
        return rng.choice([v, vgfix.nir_spaced(v)])
    if k < 0.8:
        return "0%d %02d %02d %02d %02d" % (rng.randrange(1, 10), rng.randrange(100), rng.randrange(100),
                                           rng.randrange(100), rng.randrange(100))
    return rng.choice(["IBAN", "NIR", "Tél.", "carte", "compte", "sécurité sociale", "N°"])


def random_page():
    esc = lambda t: lit(t).decode("latin-1")  # noqa: E731
    size = rng.choice([8, 9, 10, 11, 12])
    ops = ["BT", "/%s %d Tf" % (rng.choice(["F1", "F2"]), size), "1 0 0 1 60 780 Tm"]
    for _ in range(rng.randrange(1, 10)):
        text = " ".join(random_ident() for _ in range(rng.randrange(1, 4)))
        pieces, i = [], 0
        while i < len(text):
            n = rng.randrange(1, 8)
            pieces.append(text[i:i + n])
            i += n
        k = rng.random()
        if k < 0.4:
            ops.append("[%s] TJ" % " ".join("%s %d" % (esc(p), rng.choice(
                [0, -12, -30, -50, -100, -150, -250, -333, 20, 50])) for p in pieces))
        elif k < 0.7:
            for p in pieces:
                if rng.random() < 0.2:
                    ops.append("%.1f Tc" % rng.choice([0, 0.2, 0.5, 1, -0.3]))
                if rng.random() < 0.2:
                    ops.append("/%s %d Tf" % (rng.choice(["F1", "F2"]), rng.choice([size, size, size + 2])))
                ops.append("%s Tj" % esc(p))
        else:
            ops.append("%s Tj" % esc(text))
        ops.append("0 %d Td" % rng.choice([-14, -16, -20, -30, -10, 0, 5]))
    ops.append("ET")
    return "\n".join(ops).encode("cp1252", "replace")


for i in range(150):
    put("gen-%03d.pdf" % i, pdfgen.document([["x"]], flate=i % 2 == 0, content={0: random_page()},
                                            fonts={"F2": Courier}), EITHER)


# --- the three scans --------------------------------------------------------------------
def scan(mode):
    env = dict(os.environ)
    if mode:
        env["VIGIE_PDF_FAST"] = mode
    else:
        env.pop("VIGIE_PDF_FAST", None)
    p = subprocess.run([vigiectl, "scan", "--json"] + [c[0] for c in cases], capture_output=True,
                       text=True, env=env)
    no_leak(p.stdout + p.stderr, planted, "scan with VIGIE_PDF_FAST=%s" % (mode or "(unset)"))
    import json
    lines = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
    check(len(lines) == len(cases), "VIGIE_PDF_FAST=%s: one line per PDF (%d of %d)"
          % (mode or "(unset)", len(lines), len(cases)))
    return {l["path"]: l for l in lines}


def key(line):
    return (line.get("verdict"),
            sorted((f["detector"], f["count"], f["distinct"], f["where"], tuple(f["masked"]))
                   for f in line.get("findings", [])),
            sorted((u["where"], u["reason"]) for u in line.get("unscannable", [])))


def fell_back(line):
    return any(u["reason"] == "unsupported" for u in line.get("unscannable", []))


slow, only, auto = scan("off"), scan("only"), scan(None)
n_fast = n_flagged = 0
for path, expect in cases:
    name = os.path.relpath(path, tmp)
    s, o, d = slow.get(path, {}), only.get(path, {}), auto.get(path, {})
    check(key(d) == key(s), "%s: same findings as poppler (%s / poppler %s)"
          % (name, key(d)[0], key(s)[0]) + ("" if key(d) == key(s) else " %s != %s" % (key(d), key(s))))
    took = not fell_back(o)
    n_fast += took
    n_flagged += s.get("verdict") == "flagged"
    if took:
        check(key(o) == key(s), "%s: the fast path alone finds what poppler finds" % name)
    if expect == FAST:
        check(took, "%s: read by the fast path" % name)
    elif expect == SLOW:
        check(not took, "%s: the fast path falls back to poppler" % name)
check(n_flagged >= 30, "the PDFs carry findings (%d flagged by poppler)" % n_flagged)
gen_fast = sum(1 for p, _ in cases if os.path.basename(p).startswith("gen-") and not fell_back(only[p]))
check(gen_fast >= 10, "generated pages: %d of 150 read by the fast path" % gen_fast)
print("# %d PDFs, %d read by the fast path, %d by poppler; %d flagged"
      % (len(cases), n_fast, len(cases) - n_fast, n_flagged))

finish(tmp)
