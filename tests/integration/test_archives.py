"""Archives through `vigiectl scan`: every format libarchive reads for us (zip,
tar with each compression, 7z, rar, cab, iso, cpio, lone compressed streams),
a zip read both by its central directory and by its local headers (hidden,
duplicate, concatenated, overlapping members; prepended stubs; zip64),
encrypted and damaged containers, type_mismatch, images held or passed, and an
identifier across a text chunk boundary inside a member. Fixtures are generated
here with Debian tools and tests/tools/archfix.py; identifiers have correct
check digits and are made up."""

import bz2
import gzip
import io
import lzma
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile

from common import args, check, finish, no_leak, scratch, vgfix

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import archfix  # noqa: E402

a = args()
tmp = scratch("archives")
rng = vgfix.rng(404)
IB = [vgfix.french_iban(rng) for _ in range(24)]
NIR = vgfix.nir(rng)
planted = IB + [NIR]


def body(i):
    return ("Merci de régler la facture sur le compte %s avant vendredi.\n" % vgfix.spaced(IB[i])).encode()


body_nir = ("Dossier du salarié, n° de sécurité sociale %s.\n" % vgfix.nir_spaced(NIR)).encode()


def wrong_key(iban):
    """The same IBAN with its check digits off by one: a hard negative."""
    k = (int(iban[2:4]) % 97) + 1
    return iban[:2] + "%02d" % (k if k != int(iban[2:4]) else k + 1) + iban[4:]


# Hard negatives, in every archive next to the planted identifier: an IBAN with
# a wrong key, a 27-character reference, a social security number with a wrong key.
negative = ("Référence (fausse) : %s ; dossier FR7630001007941234567890185X ; "
            "NIR erroné %s%02d.\n" % (vgfix.spaced(wrong_key(IB[23])), NIR[:13],
                                       (int(NIR[13:]) % 97) + 1)).encode()

empty_conf = os.path.join(tmp, "defaults.conf")
with open(empty_conf, "w") as f:
    f.write("")
hold_conf = os.path.join(tmp, "hold.conf")
with open(hold_conf, "w") as f:
    f.write('rules = { images = "hold"; };\n')


def put(rel, data):
    p = os.path.join(tmp, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    return p


def scan(paths, config=empty_conf):
    p, lines = vgfix.scan_json(a.build, paths, config)
    no_leak(p.stdout + p.stderr, planted, "scan of %s" % ",".join(os.path.basename(x) for x in paths))
    return p, lines


def one(path, config=empty_conf):
    p, lines = scan([path], config)
    check(len(lines) == 1, "%s: one line" % os.path.basename(path))
    return lines[0] if lines else {}


def wheres(line, det=None):
    return sorted(f["where"] for f in line.get("findings", []) if det is None or f["detector"] == det)


def reasons(line):
    return {u["reason"] for u in line.get("unscannable", [])}


def expect_found(path, det, where, what=None, config=empty_conf):
    line = one(path, config)
    w = wheres(line, det)
    check(line.get("verdict") == "flagged" and w == [where] and not line.get("unscannable"),
          "%s: %s found at %s, nothing unscannable (got %s %s)" % (
              what or os.path.basename(path), det, where, w, line.get("unscannable")))
    check(not any(x["where"].endswith("faux.txt") for x in line.get("findings", [])),
          "%s: hard negatives not found" % (what or os.path.basename(path)))
    return line


def expect_unscannable(path, allowed, what, where=None):
    line = one(path)
    r = reasons(line)
    ok = line.get("verdict") in ("unscannable", "flagged") and line.get("verdict") != "clean"
    ok = ok and bool(r) and r <= set(allowed) if line.get("verdict") == "unscannable" else ok
    if where is not None:
        ok = ok and any(u["where"] == where for u in line.get("unscannable", []))
    check(ok, "%s: %s, never clean (got %s %s)" % (what, "/".join(sorted(allowed)), line.get("verdict"),
                                                  line.get("unscannable")))
    return line


def tar_bytes(members, mode="w"):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode=mode) as t:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return b.getvalue()


def tool(name):
    have = shutil.which(name) is not None
    check(have, "%s is installed" % name)
    return have


def run(cmd, cwd=None):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, check=True)


members = [("compta/virement.txt", body(0)), ("compta/faux.txt", negative)]

# --- formats --------------------------------------------------------------------------
F = "formats/"
expect_found(put(F + "a.zip", archfix.zip_bytes(members)), "iban", "a.zip/compta/virement.txt")
expect_found(put(F + "stored.zip", archfix.zip_bytes(members, zipfile.ZIP_STORED)), "iban",
             "stored.zip/compta/virement.txt")
expect_found(put(F + "a.tar", tar_bytes(members)), "iban", "a.tar/compta/virement.txt")
for mode, ext in (("w:gz", "tar.gz"), ("w:bz2", "tar.bz2"), ("w:xz", "tar.xz")):
    expect_found(put(F + "a." + ext, tar_bytes(members, mode)), "iban",
                 "a.%s/a.tar/compta/virement.txt" % ext)
expect_found(put(F + "b.tgz", tar_bytes(members, "w:gz")), "iban", "b.tgz/b.tar/compta/virement.txt")
for comp, ext in ((gzip.compress, "gz"), (bz2.compress, "bz2"), (lzma.compress, "xz")):
    expect_found(put(F + "note.txt." + ext, comp(body(1) + negative)), "iban", "note.txt.%s/note.txt" % ext)
# a gzip written as several members (as parallel compressors do) is read to its end
expect_found(put(F + "multi.txt.gz", gzip.compress(negative) + gzip.compress(body(1))), "iban",
             "multi.txt.gz/multi.txt", "gzip of two members")

src = os.path.join(tmp, "src")
os.makedirs(os.path.join(src, "compta"))
for name, data in members:
    with open(os.path.join(src, name), "wb") as f:
        f.write(data)
if tool("zstd"):
    tarp = put(F + "plain.tar", tar_bytes(members))
    run(["zstd", "-q", "-f", tarp, "-o", os.path.join(tmp, F, "a.tar.zst")])
    expect_found(os.path.join(tmp, F, "a.tar.zst"), "iban", "a.tar.zst/a.tar/compta/virement.txt")
    run(["zstd", "-q", "-f", os.path.join(src, "compta/virement.txt"), "-o", os.path.join(tmp, F, "v.txt.zst")])
    expect_found(os.path.join(tmp, F, "v.txt.zst"), "iban", "v.txt.zst/v.txt")
if tool("7z"):
    run(["7z", "a", "-bd", "-y", os.path.join(tmp, F, "a.7z"), "compta"], cwd=src)
    expect_found(os.path.join(tmp, F, "a.7z"), "iban", "a.7z/compta/virement.txt")
    # a 7z inside a zip needs seeking: spooled to an unlinked temporary file
    with open(os.path.join(tmp, F, "a.7z"), "rb") as f:
        expect_found(put(F + "has7z.zip", archfix.zip_bytes([("in/a.7z", f.read())])), "iban",
                     "has7z.zip/in/a.7z/compta/virement.txt")
# RAR: no free tool writes it; archfix writes stored RAR 4 and RAR 5 archives
expect_found(put(F + "a4.rar", archfix.rar4(members)), "iban", "a4.rar/compta/virement.txt", "RAR 4")
expect_found(put(F + "a5.rar", archfix.rar5(members)), "iban", "a5.rar/compta/virement.txt", "RAR 5")
# a RAR 5 member from an unknown system has no file type: read, never skipped
expect_found(put(F + "unix5.rar", archfix.rar5(members, host_os=1)), "iban",
             "unix5.rar/compta/virement.txt", "RAR 5 member without a file type")
if tool("gcab"):
    run(["gcab", "-c", "-z", os.path.join(tmp, F, "a.cab"), "compta/virement.txt", "compta/faux.txt"], cwd=src)
    expect_found(os.path.join(tmp, F, "a.cab"), "iban", "a.cab/compta/virement.txt", "cab (MSZIP)")
    run(["gcab", "-c", os.path.join(tmp, F, "s.cab"), "compta/virement.txt", "compta/faux.txt"], cwd=src)
    expect_found(os.path.join(tmp, F, "s.cab"), "iban", "s.cab/compta/virement.txt", "cab (stored)")
iso_tool = shutil.which("xorriso") or shutil.which("genisoimage")
check(iso_tool is not None, "xorriso or genisoimage is installed")
if iso_tool:
    cmd = ([iso_tool, "-as", "mkisofs"] if iso_tool.endswith("xorriso") else [iso_tool])
    run(cmd + ["-quiet", "-R", "-J", "-o", os.path.join(tmp, F, "a.iso"), "."], cwd=src)
    expect_found(os.path.join(tmp, F, "a.iso"), "iban", "a.iso/compta/virement.txt", "ISO 9660")
if tool("cpio"):
    for fmt in ("newc", "odc"):
        out = os.path.join(tmp, F, "a-%s.cpio" % fmt)
        listing = b"compta\ncompta/virement.txt\ncompta/faux.txt\n"
        with open(out, "wb") as f:
            subprocess.run(["cpio", "--quiet", "-o", "-H", fmt], cwd=src, input=listing, stdout=f, check=True)
        expect_found(out, "iban", "a-%s.cpio/compta/virement.txt" % fmt, "cpio (%s)" % fmt)
# NIR too, in nested formats: zip > tar.gz > zip
inner = archfix.zip_bytes([("rh/paie.txt", body_nir), ("rh/faux.txt", negative)])
expect_found(put(F + "nested.zip", archfix.zip_bytes([("x/t.tar.gz", tar_bytes([("in.zip", inner)], "w:gz"))])),
             "fr_nir", "nested.zip/x/t.tar.gz/t.tar/in.zip/rh/paie.txt", "zip > tar.gz > zip")

# --- a zip read both ways ----------------------------------------------------------------
Z = "zip2/"
three = [("a.txt", b"bonjour"), ("cache.txt", body(2)), ("b.txt", b"au revoir")]
for idx, label in ((0, "first"), (1, "middle"), (2, "last")):
    members3 = list(three)
    members3[1], members3[idx] = members3[idx], members3[1]
    data = archfix.zip_hide(archfix.zip_bytes(members3), idx)
    expect_found(put(Z + "hidden-%s.zip" % label, data), "iban", "hidden-%s.zip/cache.txt" % label,
                 "member hidden from the directory (%s): found by its local header" % label)
line = one(put(Z + "normal.zip", archfix.zip_bytes(three)))
check(wheres(line) == ["normal.zip/cache.txt"] and not line.get("unscannable"), "the same zip, nothing hidden")

import warnings  # noqa: E402
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
    dup = archfix.zip_bytes([("note.txt", b"rien a signaler"), ("note.txt", body(3))])
expect_found(put(Z + "dup.zip", dup), "iban", "dup.zip/note.txt", "duplicate names: both members read")
harmless = archfix.zip_bytes([("b1.txt", b"rien"), ("b2.txt", b"toujours rien")])
expect_found(put(Z + "concat-first.zip", archfix.zip_bytes([("a.txt", b"rien"), ("secret.txt", body(4))]) + harmless),
             "iban", "concat-first.zip/[prefix]/secret.txt", "two zips concatenated, secret in the first")
expect_found(put(Z + "concat-second.zip", harmless + archfix.zip_bytes([("secret.txt", body(5))])),
             "iban", "concat-second.zip/secret.txt", "two zips concatenated, secret in the second")
t0 = time.time()
expect_unscannable(put(Z + "overlap-full.zip", archfix.zip_overlap_full(archfix.zip_bytes([("x.txt", body(6))]), 1000)),
                   {"ambiguous"}, "Fifield full overlap (1000 entries, one local header)", "overlap-full.zip")
expect_unscannable(put(Z + "overlap-quoted.zip", archfix.zip_overlap_quoted("b.txt", body(7))),
                   {"ambiguous"}, "Fifield quoted overlap", "overlap-quoted.zip")
expect_unscannable(put(Z + "overlap-quoted-rev.zip", archfix.zip_overlap_quoted("b.txt", body(7), reverse=True)),
                   {"ambiguous"}, "quoted overlap, reversed directory", "overlap-quoted-rev.zip")
check(time.time() - t0 < 10, "overlapping zips held before anything is inflated (%.2f s)" % (time.time() - t0))
expect_unscannable(put(Z + "renamed-local.zip",
                       archfix.zip_rename_local(archfix.zip_bytes([("facture.txt", body(8))]), 0, b"facture.exe")),
                   {"ambiguous"}, "local header and directory name differ", "renamed-local.zip")
expect_unscannable(put(Z + "trailing.zip", archfix.zip_bytes([("a.txt", b"rien")]) + body(9)),
                   {"ambiguous"}, "bytes after the end record", "trailing.zip")
local, recs, _ = archfix.zip_parts(archfix.zip_bytes(three))
end = bytearray(archfix.zip_assemble(local, recs))
end[-14] = end[-12] = 2  # entries (on this disk, in all): 2; the directory holds 3
expect_unscannable(put(Z + "count.zip", bytes(end)), {"ambiguous"}, "entry count disagrees with the directory",
                   "count.zip")
# prepended data: a self-extracting stub, a fake program header, a picture
stub = b"MZ" + b"\x90" * 4000
expect_found(put(Z + "stub.exe", stub + archfix.zip_bytes([("c.txt", body(10))])), "iban", "stub.exe/c.txt",
             "zip behind a program stub")
if os.path.exists("/usr/bin/unzipsfx") and shutil.which("zip"):
    with open("/usr/bin/unzipsfx", "rb") as f:
        sfx = put(Z + "sfx.bin", f.read() + archfix.zip_bytes([("c.txt", body(11))]))
    run(["zip", "-qA", sfx])  # offsets adjusted, as self-extracting archives have them
    expect_found(sfx, "iban", "sfx.bin/c.txt", "self-extracting zip (unzipsfx + zip -A)")
jpeg = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\0" * 300 + b"\xff\xd9")
polyglot = jpeg + archfix.zip_bytes([("c.txt", body(12))])
expect_found(put(Z + "photo.jpg", polyglot), "iban", "photo.jpg/c.txt", "a picture with a zip appended")
expect_unscannable(put(Z + "album.zip", archfix.zip_bytes([("photo.jpg", polyglot)])), {"ambiguous"},
                   "inside an archive, a picture with a zip appended is held", "album.zip/photo.jpg")
# zip64, from Info-ZIP (zip64 end records) and from Python (zip64 extra fields)
if tool("zip"):
    zsrc = put("z64src/virement.txt", body(13))
    run(["zip", "-q", "-fz", os.path.join(tmp, Z, "z64.zip"), "virement.txt"], cwd=os.path.dirname(zsrc))
    with open(os.path.join(tmp, Z, "z64.zip"), "rb") as f:
        check(b"PK\x06\x06" in f.read(), "zip -fz wrote zip64 end records")
    expect_found(os.path.join(tmp, Z, "z64.zip"), "iban", "z64.zip/virement.txt", "zip64 (zip -fz)")
    # Info-ZIP writing to a pipe: data descriptors
    with open(os.path.join(tmp, Z, "piped.zip"), "wb") as f:
        subprocess.run(["zip", "-q", "-", "-"], input=body(14), stdout=f, check=True)
    expect_found(os.path.join(tmp, Z, "piped.zip"), "iban", "piped.zip/-", "zip written to a pipe")
b = io.BytesIO()
with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
    with z.open("big.txt", "w", force_zip64=True) as m:
        m.write(body(15))
expect_found(put(Z + "py64.zip", b.getvalue()), "iban", "py64.zip/big.txt", "zip64 extra fields (Python)")


class Unseekable(io.RawIOBase):
    def __init__(self):
        self.data = bytearray()

    def writable(self):
        return True

    def write(self, x):
        self.data += x
        return len(x)


u = Unseekable()
with zipfile.ZipFile(u, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("s.txt", body(16))
    z.writestr("t.txt", b"rien")
expect_found(put(Z + "descriptors.zip", bytes(u.data)), "iban", "descriptors.zip/s.txt",
             "zip with data descriptors (streamed writer)")

# A normal zip pays little for the second reading: 1000 members, timed
many = archfix.zip_bytes([("dossier/f%04d.txt" % i, ("facture numero %d, merci.\n" % i).encode() * 20)
                          for i in range(1000)])
t0 = time.time()
line = one(put(Z + "m1000.zip", many))
print("# a zip of 1000 members scanned in %.2f s" % (time.time() - t0))
check(line.get("verdict") == "clean" and not line.get("unscannable"), "a zip of 1000 members: clean")

# --- encrypted ----------------------------------------------------------------------------
E = "encrypted/"
os.makedirs(os.path.join(tmp, E))
if tool("zip"):
    run(["zip", "-q", "-P", "motdepasse", os.path.join(tmp, E, "zipcrypto.zip"), "compta/virement.txt"], cwd=src)
    expect_unscannable(os.path.join(tmp, E, "zipcrypto.zip"), {"encrypted"}, "ZipCrypto zip",
                       "zipcrypto.zip/compta/virement.txt")
if shutil.which("7z"):
    run(["7z", "a", "-bd", "-y", "-tzip", "-mem=AES256", "-pmotdepasse", os.path.join(tmp, E, "aes.zip"), "compta"],
        cwd=src)
    expect_unscannable(os.path.join(tmp, E, "aes.zip"), {"encrypted"}, "AES-256 zip", "aes.zip/compta/virement.txt")
    run(["7z", "a", "-bd", "-y", "-pmotdepasse", os.path.join(tmp, E, "content.7z"), "compta"], cwd=src)
    expect_unscannable(os.path.join(tmp, E, "content.7z"), {"encrypted"}, "7z with encrypted content")
    run(["7z", "a", "-bd", "-y", "-pmotdepasse", "-mhe=on", os.path.join(tmp, E, "headers.7z"), "compta"], cwd=src)
    expect_unscannable(os.path.join(tmp, E, "headers.7z"), {"encrypted"}, "7z with encrypted headers", "headers.7z")
expect_unscannable(put(E + "enc.rar", archfix.rar4(members, encrypted=True)), {"encrypted"}, "encrypted RAR 4",
                   "enc.rar/compta/virement.txt")

# --- damaged: the identifier sits at the end, in the part that is lost --------------------
D = "damaged/"
filler = b"".join(b"ligne de texte ordinaire numero %d\n" % i for i in range(30000))
late = [("a.txt", filler), ("z.txt", body(17))]
damaged = {"zip": archfix.zip_bytes(late), "tar.gz": tar_bytes(late, "w:gz"),
           "xz": lzma.compress(filler + body(17)), "bz2": bz2.compress(filler + body(17))}
if shutil.which("7z"):
    dsrc = os.path.join(tmp, "dsrc")
    os.makedirs(dsrc)
    for n, d in late:
        with open(os.path.join(dsrc, n), "wb") as f:
            f.write(d)
    run(["7z", "a", "-bd", "-y", os.path.join(tmp, "late.7z"), "a.txt", "z.txt"], cwd=dsrc)
    with open(os.path.join(tmp, "late.7z"), "rb") as f:
        damaged["7z"] = f.read()
for ext, data in damaged.items():
    expect_unscannable(put(D + "truncated." + ext, data[: len(data) * 2 // 3]), {"corrupt"},
                       "truncated %s" % ext)
    flipped = bytearray(data)
    for pos in (len(data) // 3, len(data) // 2):
        flipped[pos] ^= 0x10
    # a flipped bit in a header may make two readings disagree (ambiguous)
    expect_unscannable(put(D + "flipped." + ext, bytes(flipped)), {"corrupt", "ambiguous"},
                       "bit-flipped %s" % ext)
# libarchive does not check a gzip member's CRC: vigie does
g = bytearray(gzip.compress(body(18)))
g[-8] ^= 1
expect_unscannable(put(D + "badcrc.txt.gz", bytes(g)), {"corrupt"}, "gzip with a wrong CRC")
expect_unscannable(put(D + "padded.txt.gz", gzip.compress(b"rien") + b"\0" * 512 + b"cache"), {"ambiguous"},
                   "gzip followed by bytes that are not a gzip member")
line = one(put(D + "zero-padded.txt.gz", gzip.compress(body(19)) + b"\0" * 1024))
check(wheres(line) == ["zero-padded.txt.gz/zero-padded.txt"] and not line.get("unscannable"),
      "gzip followed by zero padding: read, not held")

# --- type_mismatch ----------------------------------------------------------------------------
T = "types/"
ct = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
      b'content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/'
      b'document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.'
      b'main+xml"/></Types>')
doc = (b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
       b'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Bonjour</w:t></w:r></w:p></w:body></w:document>')
docx = archfix.zip_bytes([("[Content_Types].xml", ct), ("word/document.xml", doc)])
for name, data, want in (("lettre.jpg", docx, True), ("lettre.docx", docx, False),
                         ("archive.txt", archfix.zip_bytes([("a.txt", b"rien")]), True),
                         ("archive.zip", archfix.zip_bytes([("a.txt", b"rien")]), False),
                         ("note.txt", b"bonjour\n", False), ("note.pdf", b"bonjour, ceci n'est pas un PDF\n", True),
                         ("sans-extension", archfix.zip_bytes([("a.txt", b"rien")]), False),
                         ("inconnu.xyz", b"bonjour\n", False)):
    line = one(put(T + name, data))
    check(bool(line.get("type_mismatch")) == want and ("type_mismatch" in line) == want,
          "%s (%s): type_mismatch %s" % (name, line.get("type"), want))

# --- images: passed unread by default, held with rules.images = "hold" --------------------------
import struct  # noqa: E402
import zlib  # noqa: E402


def png():
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" + b"\xff\x00\x00" * 4)) + chunk(b"IEND", b""))


img = put("images/scan-cni.png", png())
line = one(img)
check(line.get("verdict") == "clean" and line.get("type") == "image/png" and not line.get("unscannable"),
      "an image passes unread by default")
line = one(img, hold_conf)
check(line.get("verdict") == "unscannable" and line.get("unscannable") == [
    {"where": "scan-cni.png", "reason": "unsupported"}] and line.get("action") == "quarantine",
      "images = \"hold\": an image is unscannable (unsupported), quarantined (got %s)" % line.get("unscannable"))
zimg = put("images/pieces.zip", archfix.zip_bytes([("cni.png", png()), ("lettre.txt", b"bonjour")]))
line = one(zimg, hold_conf)
check(line.get("unscannable") == [{"where": "pieces.zip/cni.png", "reason": "unsupported"}],
      "images = \"hold\": an image inside a zip is held too")
line = one(zimg)
check(line.get("verdict") == "clean", "images = \"pass\": a zip of an image and a letter is clean")

# --- an identifier across the text sink's chunk boundary (256 KiB) inside members ----------
CHUNK = 256 * 1024
prose = b"le client confirme la livraison de la commande pour la semaine prochaine. " * 8000
straddle, names = [], []
for k, back in enumerate((1, 7, 13, 19, 25, 31)):
    name = "long%d.txt" % k
    ident = vgfix.spaced(IB[k]).encode()
    # the sink holds the member's name and a break before its text
    at = CHUNK - back - (len(name) + 1)
    data = prose[:at - 1] + b" " + ident + b" " + prose[: 300000 - at]
    straddle.append((name, data))
    names.append(name)
for label, data in (("zip", archfix.zip_bytes(straddle)), ("tar.gz", tar_bytes(straddle, "w:gz"))):
    p = put("chunks/straddle." + label, data)
    line = one(p)
    prefix = "straddle.%s/" % label + ("straddle.tar/" if label == "tar.gz" else "")
    got = wheres(line, "iban")
    check(got == sorted(prefix + n for n in names) and all(f["distinct"] == 1 for f in line.get("findings", [])),
          "%s: an IBAN across the 256 KiB chunk boundary of each member is found (%d/%d)" % (
              label, len(got), len(names)))

finish(tmp)
