"""The hostile files of issue 9, generated: bombs, ambiguous containers,
encrypted and corrupt archives, hostile documents, mails and text, and the
special files and names a watched folder may hold. Every file carries a planted
identifier (a French IBAN or NIR with correct check digits), so "clean" is
always a wrong answer: each must end flagged or unscannable.

    python3 tests/tools/hostile.py OUTDIR     # writes the files, prints the list

Used by tests/integration/test_hostile.py through generate(). Generators that
other tests use are imported from archfix, mailfix, pdfgen and vgfix, not
copied. Large inputs are written without holding them in memory (repeated
full-flushed deflate pieces, concatenated bzip2/xz streams, sparse files)."""

import base64
import bz2
import io
import lzma
import os
import quopri
import shutil
import socket
import stat
import subprocess
import sys
import tarfile
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import archfix  # noqa: E402
import mailfix  # noqa: E402
import pdfgen  # noqa: E402
import vgfix  # noqa: E402

GiB = 1 << 30
MiB = 1 << 20


class Case:
    """One hostile input. kind "file" is a regular file scanned as such; kind
    "special" is a FIFO, socket, device or link that must never be opened;
    kind "tree" is a folder holding an awkwardly named or deeply placed file."""

    def __init__(self, group, name, path, planted, kind="file", note=""):
        self.group = group
        self.name = name
        self.path = path
        self.planted = planted
        self.kind = kind
        self.note = note


class Gen:
    def __init__(self, out, seed=9):
        self.out = out
        self.rng = vgfix.rng(seed)
        self.cases = []
        self.planted = []  # every identifier, for the leak checks
        os.makedirs(out, exist_ok=True)

    def iban(self):
        v = vgfix.french_iban(self.rng)
        self.planted.append(v)
        return v

    def nir(self):
        v = vgfix.nir(self.rng)
        self.planted.append(v)
        return v

    def secret(self):
        """A line with both identifiers, spelled as an office writes them."""
        return ("Virement sur %s, salarié %s.\n" % (vgfix.spaced(self.iban()),
                                                    vgfix.nir_spaced(self.nir()))).encode()

    def path(self, name):
        return os.path.join(self.out, name)

    def put(self, group, name, data, note=""):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data)
        self.cases.append(Case(group, name, p, self.planted[-2:], note=note))
        return p

    def added(self, group, name, note="", kind="file", planted=None):
        self.cases.append(Case(group, name, self.path(name),
                               self.planted[-2:] if planted is None else planted, kind, note))


def _tar(members, mode="w"):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode=mode) as t:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return b.getvalue()


def _zip_dup(members):
    """A zip whose members may share a name (zipfile warns, and writes it)."""
    import warnings
    b = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in members:
                z.writestr(name, data)
    return b.getvalue()


def _docx(document_xml):
    """A minimal Word document around the given word/document.xml."""
    ct = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
          'package/2006/content-types"><Default Extension="rels" ContentType="application/'
          'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
          '"application/xml"/><Override PartName="/word/document.xml" ContentType="application/'
          'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
            '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
            '"word/document.xml"/></Relationships>')
    return archfix.zip_bytes([("[Content_Types].xml", ct), ("_rels/.rels", rels),
                              ("word/document.xml", document_xml)])


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _w_doc(dtd, body_text, tail_text):
    return ('<?xml version="1.0"?>%s<w:document %s><w:body><w:p><w:r><w:t>%s</w:t></w:r></w:p>'
            '<w:p><w:r><w:t>%s</w:t></w:r></w:p></w:body></w:document>' % (dtd, W, body_text, tail_text))


def _flipped(data):
    b = bytearray(data)
    for pos in (len(b) // 3, len(b) // 2):
        b[pos] ^= 0x10
    return bytes(b)


def bombs(g):
    G = "bombs"
    s = g.secret()
    # Fifield: quoted overlap (the outer member's data holds the inner member's
    # header), in both directory orders; and a non-quoted full overlap of many
    # records on one 64 MiB member.
    g.put(G, "fifield-quoted.zip", archfix.zip_overlap_quoted("virement.txt", s * 20))
    s = g.secret()
    g.put(G, "fifield-quoted-reversed.zip", archfix.zip_overlap_quoted("virement.txt", s * 20, reverse=True))
    s = g.secret()
    base = archfix.zip_bytes([("a.txt", s + b"\0" * (64 * MiB))], compresslevel=9)
    g.put(G, "fifield-full-overlap.zip", archfix.zip_overlap_full(base, 2000),
          "2,000 directory records on one 64 MiB member: 128 GiB")
    # 42.zip-style: 16^4 x 1 GiB, with a note carrying the identifiers beside
    # the innermost bomb.
    s = g.secret()
    level = archfix.deflated_zeros_zip("0.dat", GiB)
    level = archfix.zip_bytes([("0-%d.zip" % i, level) for i in range(16)] + [("lisezmoi.txt", s)],
                              compresslevel=9)
    for depth in range(1, 4):
        level = archfix.zip_bytes([("%d-%d.zip" % (depth, i), level) for i in range(16)], compresslevel=9)
    g.put(G, "42-style.zip", level, "16^4 x 1 GiB of zeros")
    # gzip, bzip2 and xz bombs of 4 GiB, the identifiers at the start
    s = g.secret()
    with open(g.path("zeros.txt.gz"), "wb") as f:
        gz = archfix.GzipWriter(f)
        gz.write(s)
        gz.write(b"\0" * (64 * MiB), 64)
        gz.close()
    g.added(G, "zeros.txt.gz", "4 GiB of zeros")
    s = g.secret()
    with open(g.path("zeros-lying.txt.gz"), "wb") as f:
        gz = archfix.GzipWriter(f)
        gz.write(s)
        gz.write(b"\0" * (64 * MiB), 16)
        gz.size = 1024  # ISIZE says 1 KiB: never trusted
        gz.close()
    g.added(G, "zeros-lying.txt.gz", "1 GiB, declared 1 KiB")
    s = g.secret()
    zeros = b"\0" * (64 * MiB)
    one = bz2.compress(zeros, 9)
    with open(g.path("zeros.txt.bz2"), "wb") as f:
        f.write(bz2.compress(s))
        for _ in range(64):
            f.write(one)
    g.added(G, "zeros.txt.bz2", "4 GiB of zeros, concatenated streams")
    s = g.secret()
    one = lzma.compress(zeros, preset=0)
    with open(g.path("zeros.txt.xz"), "wb") as f:
        f.write(lzma.compress(s))
        for _ in range(64):
            f.write(one)
    g.added(G, "zeros.txt.xz", "4 GiB of zeros, concatenated streams")
    del zeros, one
    s = g.secret()
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as z:
        z.writestr("lisezmoi.txt", s)
        for i in range(100000):
            z.writestr("f%06d.txt" % i, b"x")
    g.put(G, "many-members.zip", b.getvalue(), "100,000 members")
    s = g.secret()
    obj, _ = archfix.nest_mixed(s, "fond.txt", 30)
    g.put(G, "nested-30.bin", obj, "30 levels: zip, tar, gzip, bzip2, xz")


def ambiguity(g):
    G = "ambiguity"
    s = g.secret()
    harmless = archfix.zip_bytes([("lisezmoi.txt", b"Rien de sensible.\n")])
    carrying = archfix.zip_bytes([("virement.txt", s)])
    g.put(G, "two-zips.zip", harmless + carrying, "harmless zip first")
    s = g.secret()
    g.put(G, "two-zips-reversed.zip", archfix.zip_bytes([("virement.txt", s)]) + harmless,
          "the carrying zip first")
    s = g.secret()
    g.put(G, "duplicate-names.zip", _zip_dup([("a.txt", b"Rien.\n"), ("a.txt", s)]))
    s = g.secret()
    g.put(G, "hidden-member.zip",
          archfix.zip_hide(archfix.zip_bytes([("lisezmoi.txt", b"Rien.\n"), ("cache.txt", s)]), 1),
          "member missing from the central directory")


def encrypted(g, have):
    G = "encrypted"
    src = g.path(".src-enc")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, "virement.txt"), "wb") as f:
        f.write(g.secret())
    if have("zip"):
        subprocess.run(["zip", "-q", "-P", "motdepasse", g.path("zipcrypto.zip"), "virement.txt"],
                       cwd=src, check=True)
        g.added(G, "zipcrypto.zip")
    if have("7z"):
        for name, extra in [("aes.zip", ["-tzip", "-mem=AES256"]), ("content.7z", []),
                            ("headers.7z", ["-mhe=on"])]:
            subprocess.run(["7z", "a", "-bd", "-y", "-pmotdepasse"] + extra + [g.path(name), "virement.txt"],
                           cwd=src, check=True, capture_output=True)
            g.added(G, name)
    if have("qpdf"):
        plain = g.path(".plain.pdf")
        with open(plain, "wb") as f:
            f.write(pdfgen.document([["Releve", g.secret().decode()]], flate=True))
        subprocess.run(["qpdf", "--encrypt", "motdepasse", "proprietaire", "256", "--", plain,
                        g.path("encrypted.pdf")], check=True)
        os.unlink(plain)
        g.added(G, "encrypted.pdf")
    shutil.rmtree(src)


def corrupt(g, have):
    G = "corrupt"
    filler = b"".join(b"ligne de texte ordinaire numero %d\n" % i for i in range(30000))
    s = g.secret()
    late = [("a.txt", filler), ("z.txt", s)]
    forms = {"zip": archfix.zip_bytes(late), "tar.gz": _tar(late, "w:gz"),
             "xz": lzma.compress(filler + s), "bz2": bz2.compress(filler + s)}
    if have("7z"):
        src = g.path(".src-7z")
        os.makedirs(src, exist_ok=True)
        for n, d in late:
            with open(os.path.join(src, n), "wb") as f:
                f.write(d)
        subprocess.run(["7z", "a", "-bd", "-y", g.path(".late.7z"), "a.txt", "z.txt"], cwd=src,
                       check=True, capture_output=True)
        with open(g.path(".late.7z"), "rb") as f:
            forms["7z"] = f.read()
        os.unlink(g.path(".late.7z"))
        shutil.rmtree(src)
    for ext, data in forms.items():
        g.put(G, "truncated." + ext, data[: len(data) * 2 // 3])
        g.put(G, "flipped." + ext, _flipped(data))


def documents(g):
    G = "documents"
    lol = "".join('<!ENTITY lol%d "%s">' % (i, "&lol%d;" % (i - 1) * 10) for i in range(1, 10))
    s = g.secret().decode()
    g.put(G, "billion-laughs.docx",
          _docx(_w_doc('<!DOCTYPE w:document [<!ENTITY lol0 "lol">%s]>' % lol, "&lol9;", s)))
    s = g.secret().decode()
    g.put(G, "quadratic.docx",
          _docx(_w_doc('<!DOCTYPE w:document [<!ENTITY a "%s">]>' % ("A" * 50000), "&a;" * 50000, s)))
    s = g.secret().decode()
    g.put(G, "xxe.docx",
          _docx(_w_doc('<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/shadow">]>', "&xxe;", s)),
          "external entity: never resolved")
    # a PDF whose first page's content stream inflates to 256 MiB of spaces; the
    # identifiers on a second page
    s = g.secret().decode()
    pieces = zlib.compressobj(9, zlib.DEFLATED, -15)
    blank = b" " * (64 * MiB)
    piece = pieces.compress(blank) + pieces.flush(zlib.Z_FULL_FLUSH)
    adler = 1
    for _ in range(4):
        adler = zlib.adler32(blank, adler)
    stream = (b"\x78\xda" + piece * 4 + zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
              + adler.to_bytes(4, "big"))
    del blank
    doc = pdfgen.Pdf()
    catalog, pages = doc.reserve(), doc.reserve()
    font = doc.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    big = doc.add(b"<< /Filter /FlateDecode /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    text = doc.stream(b"", pdfgen.page_content(["Releve", s], {"F1": pdfgen.Standard(pdfgen.Pdf())}))
    kids = [doc.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 %d 0 R"
                    b" >> >> /Contents %d 0 R >>" % (pages, font, c)) for c in (big, text)]
    doc.set(pages, b"<< /Type /Pages /Kids [%d 0 R %d 0 R] /Count 2 >>" % tuple(kids))
    doc.set(catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % pages)
    g.put(G, "huge-flate.pdf", doc.build(catalog), "a content stream of 256 MiB")
    # double filter: ASCIIHex over Flate
    s = g.secret().decode()
    doc = pdfgen.Pdf()
    catalog, pages = doc.reserve(), doc.reserve()
    font = doc.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    raw = pdfgen.page_content(["Releve", s], {"F1": pdfgen.Standard(pdfgen.Pdf())})
    data = zlib.compress(raw).hex().encode() + b">"
    content = doc.add(b"<< /Filter [/ASCIIHexDecode /FlateDecode] /Length %d >>\nstream\n" % len(data) + data
                      + b"\nendstream")
    page = doc.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 %d 0 R"
                   b" >> >> /Contents %d 0 R >>" % (pages, font, content))
    doc.set(pages, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    doc.set(catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % pages)
    g.put(G, "double-filter.pdf", doc.build(catalog))
    # a page tree whose Kids point back at itself; the identifiers in the title
    s = g.secret().decode().strip()
    doc = pdfgen.Pdf()
    catalog, pages, inner = doc.reserve(), doc.reserve(), doc.reserve()
    doc.set(pages, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % inner)
    doc.set(inner, b"<< /Type /Pages /Parent %d 0 R /Kids [%d 0 R %d 0 R] /Count 1 >>" % (pages, pages, inner))
    doc.set(catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % pages)
    info = doc.add(b"<< /Title " + pdfgen._utf16(s) + b" >>")
    g.put(G, "recursive-pages.pdf", doc.build(catalog, info))


def mails(g):
    G = "mail"
    g.put(G, "nest-multipart.eml", mailfix.nest_multipart(g.iban()))
    g.put(G, "nest-message.eml", mailfix.nest_message(g.iban()))
    g.put(G, "many-parts.eml", mailfix.many_parts(g.iban()))
    g.put(G, "long-header.eml", mailfix.long_header(b"Subject: " + b"A" * (10 * MiB) + b" " + g.iban().encode()))
    v = g.iban()
    g.put(G, "broken-base64.eml", mailfix.b64_mail("text/plain", "Lorem ipsum. " * 40 + "IBAN %s\n" % v,
                                                   lambda e: e[:100] + e[101:]))
    v = g.iban()
    rfc2047 = "=?utf-8?b?%s?=" % base64.b64encode(("RIB %s.txt" % v).encode()).decode()
    g.put(G, "rfc2047-name.eml", (mailfix.HDR + "Subject: piece\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n"
                                  "--q\r\nContent-Type: text/plain\r\n\r\nCi-joint.\r\n"
                                  "--q\r\nContent-Type: application/octet-stream; name=\"%s\"\r\n"
                                  "Content-Disposition: attachment; filename=\"%s\"\r\n\r\nrien\r\n--q--\r\n"
                                  % (rfc2047, rfc2047)).encode(), "the identifier only in the file name")
    v = g.iban()
    rfc2231 = "utf-8''RIB%%20%s.txt" % v
    g.put(G, "rfc2231-name.eml", (mailfix.HDR + "Subject: piece\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n"
                                  "--q\r\nContent-Type: text/plain\r\n\r\nCi-joint.\r\n"
                                  "--q\r\nContent-Type: application/octet-stream\r\n"
                                  "Content-Disposition: attachment; filename*=%s\r\n\r\nrien\r\n--q--\r\n"
                                  % rfc2231).encode(), "the identifier only in the file name")
    s = g.secret()
    g.put(G, "uuencode.eml", (mailfix.HDR + "Subject: uu\r\nContent-Type: text/plain\r\n\r\nVoici:\n\n%s"
                              % mailfix.uu("releve.txt", s * 3)).encode())
    tnef = b"\x78\x9f\x3e\x22\x01\x00\x01\x06\x90\x08\x00\x04\x00\x00\x00\x00\x00\x01\x00\x01\x00" * 4
    g.iban()
    g.put(G, "tnef.eml", (mailfix.HDR + "Subject: Voir winmail.dat (IBAN %s)\r\nContent-Type: multipart/mixed;"
                          " boundary=t\r\n\r\n--t\r\nContent-Type: text/plain\r\n\r\nx\r\n--t\r\nContent-Type: "
                          "application/ms-tnef; name=winmail.dat\r\nContent-Transfer-Encoding: base64\r\n\r\n%s--t--\r\n"
                          % (vgfix.spaced(g.planted[-1]), base64.encodebytes(tnef).decode())).encode())
    v = g.iban()
    line = ("Merci de virer sur %s sans tarder." % vgfix.spaced(v)).encode()
    qp = quopri.encodestring(line).decode()
    cut = qp.index(v[10:12])
    qp = qp[:cut] + "=\r\n" + qp[cut:]  # a soft break inside the IBAN
    g.put(G, "qp-soft-break.eml", (mailfix.HDR + "Subject: qp\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                   "Content-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n" % qp).encode())


def text(g):
    G = "text"
    s = g.secret().decode()
    u16 = b"\xff\xfe" + "Début ".encode("utf-16-le") + b"\x00\xd8\x41\x00" * 50 + b"\x00\xdc" \
        + ("\n" + s).encode("utf-16-le")
    g.put(G, "utf16-surrogates.txt", u16, "unpaired surrogates")
    s = g.secret()
    g.put(G, "invalid-utf8.txt", b"caf\xc3 \xff\xfe\xc0\xaf \xed\xa0\x80 " * 1000 + b"\n" + s)
    s = g.secret()
    g.put(G, "one-line-40mb.txt", b"mot " * (10 * MiB) + s.rstrip(b"\n"), "40 MB without a newline")
    # made for backtracking: runs that nearly look like grouped IBANs, card
    # numbers and NIRs, never completing
    s = g.secret()
    g.put(G, "backtrack.txt", (b"FR76 1234 5678 9012 3456 7890 12" + b"3" * 3 + b" ") * 40000
          + b"1 " * 500000 + b"\n" + s)


def special(g):
    """FIFO, socket, device node, a 10 GB sparse file, awkward names and a path
    longer than PATH_MAX, and an archive whose members name ../../ and /."""
    G = "special"
    top = g.out
    g.out = os.path.join(top, "special")
    os.makedirs(g.out)
    os.mkfifo(g.path("tube"))
    g.added(G, "tube", kind="special", planted=[])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(g.path("prise"))
    s.close()
    g.added(G, "prise", kind="special", planted=[])
    try:
        os.mknod(g.path("peripherique"), 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        g.added(G, "peripherique", kind="special", planted=[])
    except PermissionError:
        pass
    sec = g.secret()
    with open(g.path("sparse-10g.txt"), "wb") as f:
        f.write(sec)
        f.truncate(10 * 10 ** 9)
    g.added(G, "sparse-10g.txt", "10 GB sparse, identifiers at the start")
    names = [b"ligne\nnouvelle.txt", b"ctrl\x01\x1b[31m\x7f.txt", b"latin1-\xe9t\xe9-\xff.txt",
             b"n" * 251 + b".txt"]
    for n in names:
        data = g.secret()
        with open(os.path.join(os.fsencode(g.out), n), "wb") as f:
            f.write(data)
        g.cases.append(Case(G, repr(n)[2:-1][:40], os.fsdecode(os.path.join(os.fsencode(g.out), n)),
                            g.planted[-2:], "file"))
    # deeper than PATH_MAX (4096): 24 folders of 200 bytes
    deep = os.fsencode(g.path("profond"))
    fd = os.open(os.path.dirname(deep) or b".", os.O_RDONLY | os.O_DIRECTORY)
    comp = [b"profond"] + [b"d%02d-" % i + b"x" * 195 for i in range(24)]
    for c in comp:
        os.mkdir(c, dir_fd=fd)
        nfd = os.open(c, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    data = g.secret()
    wfd = os.open("fond.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(wfd, data)
    os.close(wfd)
    os.close(fd)
    rel = os.fsdecode(b"/".join(comp) + b"/fond.txt")
    g.cases.append(Case(G, "deep path (%d bytes)" % len(rel), os.path.join(g.out, rel), g.planted[-2:], "deep"))
    s = g.secret()
    g.put(G, "escape.zip", archfix.zip_bytes([("../../tmp/vigie-hostile-escape.txt", s),
                                              ("/vigie-hostile-abs.txt", s)]),
          "members ../../tmp/... and /...")
    s = g.secret()
    g.put(G, "escape.tar", _tar([("../../tmp/vigie-hostile-escape.txt", s), ("/vigie-hostile-abs.txt", s)]),
          "members ../../tmp/... and /...")
    g.out = top


ESCAPES = ["/tmp/vigie-hostile-escape.txt", "/vigie-hostile-abs.txt"]


def generate(out, have=lambda tool: shutil.which(tool) is not None, groups=None):
    g = Gen(out)
    for fn in (bombs, ambiguity, encrypted, corrupt, documents, mails, text, special):
        if groups and fn.__name__ not in groups:
            continue
        if fn in (encrypted, corrupt):
            fn(g, have)
        else:
            fn(g)
    return g


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: hostile.py OUTDIR")
    gen = generate(sys.argv[1])
    for c in gen.cases:
        print("%-10s %-8s %s" % (c.group, c.kind, c.name))
