"""PDF through poppler-glib, on PDFs written by the test (tests/tools/pdfgen.py) and
encrypted with qpdf: identifiers on every page, in compressed content streams,
behind a ToUnicode CMap, behind a predefined CMap of poppler-data, split across
text operators, in the info dictionary, in annotations and in embedded files;
inside a zip; encrypted, truncated, appended-to and oversized PDFs; hard negatives;
and the time per small PDF."""

import io
import json
import os
import shutil
import subprocess
import time
import zipfile

from common import args, check, finish, no_leak, scratch, vgfix

import pdfgen  # noqa: E402 (tests/tools is on the path through common)

a = args()
tmp = scratch("pdf")
rng = vgfix.rng(2024)
iban = vgfix.french_iban(rng)
nir = vgfix.nir(rng)
iban_b = vgfix.french_iban(rng)
nir_b = vgfix.nir(rng)
nir_c = vgfix.nir(rng)
# Hard negatives: one digit off, so the IBAN's mod 97 and the NIR's key fail.
bad_iban = iban[:-1] + str((int(iban[-1]) + 1) % 10)
bad_nir = nir[:-2] + "%02d" % ((int(nir[-2:]) % 97) + 1)
assert not vgfix.iban_valid(bad_iban) and vgfix.nir_key(bad_nir[:13]) != int(bad_nir[13:])
planted = [iban, nir, iban_b, nir_b, nir_c, bad_iban, bad_nir]
sp_iban, sp_nir = vgfix.spaced(iban), vgfix.nir_spaced(nir)
vigiectl = os.path.join(a.build, "vigiectl")


def put(rel, data):
    p = os.path.join(tmp, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    return p


def scan(paths, config=None):
    p, lines = vgfix.scan_json(a.build, paths, config)
    no_leak(p.stdout + p.stderr, planted, "scan of %s" % ",".join(os.path.basename(x) for x in paths))
    return p, lines


def one(path, config=None):
    p, lines = scan([path], config)
    check(len(lines) == 1, "%s: one line" % os.path.basename(path))
    return p, (lines[0] if lines else {})


def finding(line, det, where=None):
    return [f for f in line.get("findings", [])
            if f["detector"] == det and (where is None or f["where"] == where)]


def reasons(line):
    return sorted({u["reason"] for u in line.get("unscannable", [])})


def flagged_at(name, data, want, what, config=None):
    """Scans one PDF; every (detector, where) of want must be found."""
    p, line = one(put(name, data), config)
    missing = [w for w in want if not finding(line, *w)]
    check(line.get("verdict") == "flagged" and not missing,
          "%s: found at %s (verdict %s, missing %s, unscannable %s)"
          % (what, ", ".join(w[1] for w in want), line.get("verdict"), missing, reasons(line)))
    return line


def raw_hides(data, value):
    """The fixture really hides the value from a byte-level grep."""
    return not any(s.encode() in data for s in vgfix.spellings(value) | vgfix.digit_runs(value, 6))


def zip_bytes(members):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
    return b.getvalue()


# --- text of every page, in order, each page its own paragraph -----------------
three = pdfgen.document([["Relevé de compte", "IBAN : " + sp_iban],
                         ["Page deux, rien de sensible.", "Total : 1 234,56 EUR"],
                         ["Salarié", "N° de sécurité sociale : " + sp_nir]])
line = flagged_at("releve.pdf", three, [("iban", "releve.pdf"), ("fr_nir", "releve.pdf")],
                  "IBAN on page 1 and NIR on page 3")
check(not reasons(line), "a well-formed PDF leaves nothing unscannable (%s)" % reasons(line))

# Pages are separate paragraphs: digits that end one page and start the next are
# not one identifier (as with paragraphs and cells).
sp_c = vgfix.nir_spaced(nir_c)
p, line = one(put("pages.pdf", pdfgen.document([["Fin de page " + sp_c[:10]],
                                                [sp_c[10:] + " suite"]])))
check(line.get("verdict") == "clean", "pages are not joined into one identifier (%s)"
      % line.get("verdict"))
p, line = one(put("une-page.pdf", pdfgen.document([[[("F1", "Fin de page " + sp_c[:10]),
                                                     ("F1", sp_c[10:] + " suite")]]])))
check(line.get("verdict") == "flagged", "control: the same two pieces on one line are one NIR")

flate = pdfgen.document([["Relevé", "IBAN " + sp_iban], ["suite"], ["NIR " + sp_nir]], flate=True)
check(raw_hides(flate, iban) and raw_hides(flate, nir), "fixture: Flate content streams hide both")
flagged_at("compresse.pdf", flate, [("iban", "compresse.pdf"), ("fr_nir", "compresse.pdf")],
           "identifiers in Flate-compressed content streams")

tu_text = "Compte " + sp_iban
tounicode = pdfgen.document([[[("F2", tu_text)]]],
                            fonts={"F2": lambda d: pdfgen.ToUnicode(d, tu_text)})
check(raw_hides(tounicode, iban), "fixture: the ToUnicode font's codes hide the IBAN")
flagged_at("tounicode.pdf", tounicode, [("iban", "tounicode.pdf")],
           "IBAN through a composite font and its ToUnicode CMap")

# An identifier cut across text-showing operators on one line, as word processors
# write kerned text: two Tj, and a TJ array with kerning inside a group of digits.
tj_iban = ("[(IBAN %s) -12 (%s)] TJ" % (sp_iban[:7], sp_iban[7:])).encode()
split = pdfgen.document([[[("F1", "NIR " + sp_nir[:6]), ("F1", sp_nir[6:])], [("F1", tj_iban)]]])
flagged_at("coupe.pdf", split, [("iban", "coupe.pdf"), ("fr_nir", "coupe.pdf")],
           "identifiers split across Tj operators and inside a kerned TJ array")

check(os.path.isdir("/usr/share/poppler/cMap/Adobe-Japan1"),
      "poppler-data is installed (Debian package poppler-data: predefined CMaps)")
jp = pdfgen.document([[[("F3", "振込先口座 " + sp_iban)]]], fonts={"F3": pdfgen.Japanese})
check(raw_hides(jp, iban), "fixture: the UCS-2 codes hide the IBAN")
line = flagged_at("japonais.pdf", jp, [("iban", "japonais.pdf")],
                  "IBAN through a predefined CMap (UniJIS-UCS2-H, poppler-data)")
check(not reasons(line), "predefined CMap read: nothing unscannable (%s)" % reasons(line))

# --- info dictionary, annotations, embedded files --------------------------------
flagged_at("info.pdf", pdfgen.document([["Note de service"]],
                                       info={"Title": "RIB " + sp_iban, "Subject": "paie",
                                             "Keywords": "salarié " + sp_nir}),
           [("iban", "info.pdf"), ("fr_nir", "info.pdf")], "identifiers in title and keywords")
flagged_at("annote.pdf", pdfgen.document([["Contrat"]], annots={0: ["Vérifier le NIR " + sp_nir]}),
           [("fr_nir", "annote.pdf")], "NIR in the text of an annotation")
annexe = pdfgen.document([["Annexe", "NIR " + vgfix.nir_spaced(nir_b)]], flate=True)
pj = pdfgen.document([["Voir les pièces jointes"]],
                     attachments=[("releve.txt", ("IBAN " + vgfix.spaced(iban_b) + "\n").encode()),
                                  ("annexe.pdf", annexe)])
flagged_at("pj.pdf", pj, [("iban", "pj.pdf/releve.txt"), ("fr_nir", "pj.pdf/annexe.pdf")],
           "embedded files scanned as members, a PDF inside a PDF too")

trombone = pdfgen.document([["Courrier"]], annot_files={0: [("rib.txt", ("RIB " + sp_iban).encode())]})
flagged_at("trombone.pdf", trombone, [("iban", "trombone.pdf/rib.txt")],
           "a file attached to a page (file-attachment annotation) scanned as a member")

# --- inside a zip (a stream: spooled for poppler) --------------------------------
scan_pdf = pdfgen.document([["Dossier"], ["rien"], ["IBAN " + sp_iban]], flate=True)
flagged_at("dossier.zip", zip_bytes([("scan.pdf", scan_pdf), ("lisezmoi.txt", b"rien")]),
           [("iban", "dossier.zip/scan.pdf")], "a PDF inside a zip")

# --- encryption -------------------------------------------------------------------
qpdf = shutil.which("qpdf")
check(qpdf is not None, "qpdf is installed (Debian package qpdf)")
if qpdf:
    plain = put("enc/plain.pdf", three)

    def qpdf_encrypt(name, user, owner, bits, *extra):
        out = os.path.join(tmp, "enc", name)
        r = subprocess.run([qpdf, *extra, "--encrypt", user, owner, str(bits), *(
            ["--use-aes=y"] if bits == 128 else []), "--", plain, out], capture_output=True)
        check(r.returncode == 0, "qpdf wrote %s (%s)" % (name, r.stderr.decode()[-200:]))
        with open(out, "rb") as f:
            return out, f.read()

    for name, bits, extra in [("aes256.pdf", 256, ()), ("aes128.pdf", 128, ()),
                              ("rc4-40.pdf", 40, ("--allow-weak-crypto",))]:
        path, data = qpdf_encrypt(name, "motdepasse", "proprietaire", bits, *extra)
        check(raw_hides(data, iban), "fixture: %s hides the IBAN" % name)
        p, line = one(path)
        check(line.get("verdict") == "unscannable" and reasons(line) == ["encrypted"]
              and not line.get("findings"),
              "%s with a user password: unscannable encrypted (%s %s)"
              % (name, line.get("verdict"), reasons(line)))
    out = os.path.join(tmp, "enc", "proprietaire.pdf")
    r = subprocess.run([qpdf, "--encrypt", "", "proprietaire", "256", "--extract=n",
                        "--modify=none", "--print=none", "--", plain, out], capture_output=True)
    check(r.returncode == 0, "qpdf wrote an owner-password-only PDF")
    with open(out, "rb") as f:
        owner_only = f.read()
    check(raw_hides(owner_only, iban), "fixture: the owner-only PDF is encrypted too")
    line = flagged_at("enc/proprietaire-copie.pdf", owner_only,
                      [("iban", "proprietaire-copie.pdf"), ("fr_nir", "proprietaire-copie.pdf")],
                      "owner password only (no copy, no print): opened and scanned")
    check(not reasons(line), "owner password only: nothing unscannable (%s)" % reasons(line))
    with open(os.path.join(tmp, "enc", "aes256.pdf"), "rb") as f:
        p, line = one(put("enc/chiffre.zip", zip_bytes([("x.pdf", f.read())])))
    check(line.get("unscannable") == [{"where": "chiffre.zip/x.pdf", "reason": "encrypted"}],
          "an encrypted PDF inside a zip: unscannable encrypted at chiffre.zip/x.pdf (%s)"
          % line.get("unscannable"))

# --- damaged PDFs: never clean ----------------------------------------------------
# The IBAN is on the last page, the part a truncation loses first.
whole = pdfgen.document([["Contrat page %d" % i] for i in range(1, 6)] + [["IBAN " + sp_iban]],
                        flate=True)
p, line = one(put("trunc/intact.pdf", whole))
check(line.get("verdict") == "flagged", "untruncated reference: flagged")
outcomes = {}
for cut in [9, 100, len(whole) // 4, len(whole) // 2, 3 * len(whole) // 4, len(whole) - 200,
            len(whole) - 30, len(whole) - 7]:
    p, line = one(put("trunc/cut-%d.pdf" % cut, whole[:cut]))
    outcomes[cut] = (line.get("verdict"), reasons(line))
    check(line.get("verdict") != "clean" and "corrupt" in reasons(line),
          "cut after %d of %d bytes: held as corrupt, never clean (%s %s)"
          % (cut, len(whole), line.get("verdict"), reasons(line)))
# Cut only in the trailer: poppler rebuilds the xref and reads every page, so the
# IBAN is found, and the file is still marked corrupt.
check(outcomes[len(whole) - 30][0] == "flagged",
      "cut inside the trailer: pages rebuilt and read (flagged) and corrupt (%s)"
      % (outcomes[len(whole) - 30],))
p, line = one(put("corrupt/doc.pdf", b"%PDF-1.4\n1 0 obj<</Filter/FlateDecode>>stream\nx\x9c...\n"))
check(line.get("verdict") == "unscannable" and reasons(line) == ["corrupt"],
      "a PDF poppler cannot open: unscannable corrupt")

# Bytes appended after %%EOF are never read by poppler (or shown by a viewer).
ok = pdfgen.document([["Rien de sensible ici."]])
p, line = one(put("append/petit.pdf", ok + ("\nIBAN " + sp_iban + "\n").encode()))
check(line.get("verdict") == "flagged" and finding(line, "iban", "petit.pdf"),
      "text appended after %%%%EOF: scanned (%s)" % line.get("verdict"))
p, line = one(put("append/gros.pdf", ok + os.urandom(4096)))
check(line.get("verdict") == "unscannable" and reasons(line) == ["corrupt"],
      "more than 1 KiB appended after %%%%EOF: unscannable corrupt (%s)" % reasons(line))

# --- hard negatives ----------------------------------------------------------------
neg = pdfgen.document([["IBAN " + vgfix.spaced(bad_iban), "Sécu " + vgfix.nir_spaced(bad_nir)],
                       ["Facture 2024-0117, commande 4411 2233 5566 7788"]], flate=True,
                      info={"Title": "IBAN " + bad_iban})
p, line = one(put("negatif.pdf", neg))
check(line.get("verdict") == "clean" and p.returncode == 0,
      "wrong check digits in a PDF: clean, exit 0 (%s %s)" % (line.get("verdict"), line.get("findings")))

# --- poppler-data hidden (as a sandbox that forgot it would): never clean -------
if os.geteuid() == 0 and shutil.which("unshare"):
    empty = os.path.join(tmp, "empty")
    os.makedirs(empty)
    jp_path = os.path.join(tmp, "japonais.pdf")
    r = subprocess.run(["unshare", "-m", "sh", "-c",
                        'mount --bind "$1" /usr/share/poppler && exec "$2" scan --json "$3"',
                        "sh", empty, vigiectl, jp_path], capture_output=True, text=True)
    if "mount" in r.stderr and r.returncode != 1:
        print("skip - cannot hide /usr/share/poppler here: %s" % r.stderr.strip()[:200])
    else:
        no_leak(r.stdout + r.stderr, planted, "scan without poppler-data")
        lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        got = lines[0] if lines else {}
        check(got.get("verdict") == "unscannable" and reasons(got) == ["charset"],
              "without poppler-data, a CMap font's text is lost: unscannable charset (%s %s)"
              % (got.get("verdict"), reasons(got)))
else:
    print("skip - hiding /usr/share/poppler needs root and unshare")

# --- limits -------------------------------------------------------------------------
# Pages are read one at a time, and the time limit is checked between them.
d = pdfgen.Pdf()
cat, pages_ref = d.reserve(), d.reserve()
font = d.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
content = d.stream(b"", b"BT /F1 11 Tf 72 700 Td (page) Tj ET")
kids = [d.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources << /Font << "
              b"/F1 %d 0 R >> >> /Contents %d 0 R >>" % (pages_ref, font, content))
        for _ in range(150000)]
d.set(pages_ref, b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids) +
      b"] /Count %d >>" % len(kids))
d.set(cat, b"<< /Type /Catalog /Pages %d 0 R >>" % pages_ref)
conf1 = put("limits/time.conf", b"limits = { max_scan_time = 1; };\n")
t0 = time.monotonic()
p, line = one(put("limits/pages.pdf", d.build(cat)), conf1)
took = time.monotonic() - t0
check(line.get("verdict") == "unscannable" and reasons(line) == ["limit:time"] and took < 20,
      "150,000 pages, 1 s limit: limit:time in %.1f s (%s)" % (took, reasons(line)))

# Extracted text is charged to the budget: a small Flate PDF whose pages hold a lot
# of text trips the ratio (and max_expanded) limits.
row = "0123456789 ABCDEFGHIJ abcdefghij 0123456789 ABCDEFGHIJ abcdefghij 0123456789 ABCD"
dense = pdfgen.document([[row] * 50] * 400, flate=True)
conf_ratio = put("limits/ratio.conf", b"limits = { max_ratio = 10; };\n")
p, line = one(put("limits/dense.pdf", dense), conf_ratio)
check(reasons(line) == ["limit:ratio"],
      "text of %d bytes from %d bytes of PDF, max_ratio 10: limit:ratio (%s)"
      % (400 * 50 * len(row), len(dense), reasons(line)))
conf_exp = put("limits/expanded.conf", b'limits = { max_expanded = "512K"; };\n')
p, line = one(put("limits/dense2.pdf", dense), conf_exp)
check(reasons(line) == ["limit:expanded"], "same, max_expanded 512K: limit:expanded (%s)"
      % reasons(line))

# One page poppler cannot lay out in reasonable time (many distinct strings drawn at
# the same place): poppler cannot be interrupted inside a page, the worker is
# stopped at the time limit.
ops = [b"BT /F1 10 Tf 1 0 0 1 100 400 Tm"] + [b"(%08dA) Tj 0 0 Td" % i for i in range(60000)]
slow = pdfgen.document([["x"]], flate=True, content={0: b"\n".join(ops + [b"ET"])})
conf2 = put("limits/time2.conf", b"limits = { max_scan_time = 2; };\n")
t0 = time.monotonic()
p, line = one(put("limits/lent.pdf", slow), conf2)
took = time.monotonic() - t0
check(line.get("verdict") == "unscannable" and reasons(line) == ["limit:time"] and took < 30,
      "a page too slow to lay out, 2 s limit: limit:time in %.1f s (%s)" % (took, reasons(line)))

# --- time per small PDF -------------------------------------------------------------
many = os.path.join(tmp, "cent")
os.makedirs(many)
for i in range(100):
    body = [["Compte rendu n° %d" % i, "Rien de particulier."]]
    if i % 10 == 0:
        body[0].append("IBAN " + vgfix.spaced(vgfix.french_iban(rng)))
    with open(os.path.join(many, "cr-%03d.pdf" % i), "wb") as f:
        f.write(pdfgen.document(body, flate=True))
txt = os.path.join(tmp, "cent-txt")
os.makedirs(txt)
for i in range(100):
    with open(os.path.join(txt, "cr-%03d.txt" % i), "w") as f:
        f.write("Compte rendu n° %d\nRien de particulier.\n" % i)
t0 = time.monotonic()
p, lines = vgfix.scan_json(a.build, [txt])
t_txt = time.monotonic() - t0
t0 = time.monotonic()
p, lines = vgfix.scan_json(a.build, [many])
t_pdf = time.monotonic() - t0
flagged = sum(1 for l in lines if l.get("verdict") == "flagged")
clean = sum(1 for l in lines if l.get("verdict") == "clean")
check(len(lines) == 100 and flagged == 10 and clean == 90,
      "100 one-page PDFs: 10 flagged, 90 clean (%d lines, %d, %d)" % (len(lines), flagged, clean))
print("# 100 one-page PDFs: %.0f ms in all, %.2f ms per PDF; 100 small text files: %.0f ms"
      " (%.2f ms per file)" % (t_pdf * 1000, t_pdf * 10, t_txt * 1000, t_txt * 10))
check(t_pdf < 60, "100 small PDFs in under a minute (%.1f s)" % t_pdf)

finish(tmp)
