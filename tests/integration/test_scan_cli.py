"""`vigiectl scan` over generated fixtures: archive formats and nesting, limits,
encrypted and corrupt input, special files, names, charsets, exit statuses."""

import bz2
import gzip
import io
import lzma
import os
import shutil
import subprocess
import tarfile
import time
import zipfile

from common import args, check, finish, no_leak, scratch, vgfix

a = args()
tmp = scratch("cli")
rng = vgfix.rng(3)
iban = vgfix.french_iban(rng)
nir = vgfix.nir(rng)
planted = [iban, nir]
body_iban = ("Coordonnées bancaires : %s\n" % vgfix.spaced(iban)).encode()
body_nir = ("Salarié n° sécu %s\n" % vgfix.nir_spaced(nir)).encode()
vigiectl = os.path.join(a.build, "vigiectl")


def put(rel, data):
    p = os.path.join(tmp, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    return p


def zip_bytes(members, method=zipfile.ZIP_DEFLATED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as z:
        for name, data in members:
            z.writestr(name, data)
    return b.getvalue()


def tar_bytes(members, mode):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode=mode) as t:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return b.getvalue()


def scan(paths, config=None, extra=()):
    p, lines = vgfix.scan_json(a.build, paths, config, extra)
    no_leak(p.stdout + p.stderr, planted, "scan of %s" % ",".join(os.path.basename(x) for x in paths))
    return p, lines


def one(path, config=None):
    p, lines = scan([path], config)
    check(len(lines) == 1, "%s: one line" % os.path.basename(path))
    return p, (lines[0] if lines else {})


def finding(line, det):
    return [f for f in line.get("findings", []) if f["detector"] == det]


# --- formats and nesting -------------------------------------------------------
cases = {
    "t.tar.gz": (tar_bytes([("rh/paie.txt", body_nir)], "w:gz"), "fr_nir", "t.tar.gz/t.tar/rh/paie.txt"),
    "t.tgz": (tar_bytes([("rh/paie.txt", body_nir)], "w:gz"), "fr_nir", "t.tgz/t.tar/rh/paie.txt"),
    "t.tar.bz2": (tar_bytes([("rh/paie.txt", body_nir)], "w:bz2"), "fr_nir", "t.tar.bz2/t.tar/rh/paie.txt"),
    "t.tar.xz": (tar_bytes([("rh/paie.txt", body_nir)], "w:xz"), "fr_nir", "t.tar.xz/t.tar/rh/paie.txt"),
    "t.tar": (tar_bytes([("rh/paie.txt", body_nir)], "w"), "fr_nir", "t.tar/rh/paie.txt"),
    "note.txt.gz": (gzip.compress(body_iban), "iban", "note.txt.gz/note.txt"),
    "note.txt.bz2": (bz2.compress(body_iban), "iban", "note.txt.bz2/note.txt"),
    "note.txt.xz": (lzma.compress(body_iban), "iban", "note.txt.xz/note.txt"),
    "stored.zip": (zip_bytes([("a/b.txt", body_iban)], zipfile.ZIP_STORED), "iban", "stored.zip/a/b.txt"),
}
inner_zip = zip_bytes([("compta/virement.txt", body_iban)])
inner_tgz = tar_bytes([("x/inner.zip", inner_zip)], "w:gz")
cases["nested.zip"] = (zip_bytes([("archives/t.tar.gz", inner_tgz)]), "iban",
                       "nested.zip/archives/t.tar.gz/t.tar/x/inner.zip/compta/virement.txt")
for name, (data, det, where) in cases.items():
    p, line = one(put("formats/" + name, data))
    f = finding(line, det)
    check(line.get("verdict") == "flagged" and f and f[0]["where"] == where,
          "%s: %s found at %s (got %s)" % (name, det, where, [x["where"] for x in f]))

if shutil.which("7z"):
    src = put("7zsrc/compta/virement.txt", body_iban)
    out = os.path.join(tmp, "formats", "a.7z")
    subprocess.run(["7z", "a", "-bd", "-y", out, "compta"], cwd=os.path.join(tmp, "7zsrc"),
                   capture_output=True, check=True)
    p, line = one(out)
    f = finding(line, "iban")
    check(line.get("verdict") == "flagged" and f and f[0]["where"] == "a.7z/compta/virement.txt",
          "7z: iban found at a.7z/compta/virement.txt")
    # 7z inside a zip: spooled for seeking
    with open(out, "rb") as fh:
        p, line = one(put("formats/has7z.zip", zip_bytes([("in/a.7z", fh.read())])))
    f = finding(line, "iban")
    check(f and f[0]["where"] == "has7z.zip/in/a.7z/compta/virement.txt", "7z inside zip read")
    enc = os.path.join(tmp, "enc", "headers.7z")
    subprocess.run(["7z", "a", "-bd", "-y", "-psecret", "-mhe=on", enc, "compta"],
                   cwd=os.path.join(tmp, "7zsrc"), capture_output=True, check=True)
    p, line = one(enc)
    check(line.get("verdict") == "unscannable" and line.get("action") == "quarantine" and
          line["unscannable"][0]["reason"] == "encrypted", "7z with encrypted headers: unscannable encrypted")
else:
    check(False, "7z is installed (p7zip-full)")

# --- charsets -----------------------------------------------------------------
for name, data in [("utf16le.txt", "\ufeff".encode("utf-16-le") + body_iban.decode().encode("utf-16-le")),
                   ("utf16be.txt", b"\xfe\xff" + body_iban.decode().encode("utf-16-be")),
                   ("cp1252.txt", ("Coordonnées : " + vgfix.spaced(iban) + " — réglé\n").encode("cp1252"))]:
    p, line = one(put("charsets/" + name, data))
    check(finding(line, "iban"), "%s: iban found" % name)

# --- encrypted and corrupt --------------------------------------------------------
if shutil.which("zip"):
    put("encsrc/virement.txt", body_iban)
    ez = os.path.join(tmp, "enc", "crypt.zip")
    subprocess.run(["zip", "-q", "-P", "pw", ez, "virement.txt"], cwd=os.path.join(tmp, "encsrc"), check=True)
    p, line = one(ez)
    u = line.get("unscannable", [])
    check(line.get("verdict") == "unscannable" and u and u[0] == {"where": "crypt.zip/virement.txt", "reason": "encrypted"},
          "ZipCrypto member: unscannable encrypted at its where")
else:
    check(False, "zip is installed")

good_zip = zip_bytes([("a.txt", body_iban + b"x" * 5000)])
p, line = one(put("corrupt/trunc.zip", good_zip[: len(good_zip) // 2]))
check(line.get("verdict") == "unscannable" and line["unscannable"][0]["reason"] == "corrupt",
      "truncated zip: unscannable corrupt")
p, line = one(put("corrupt/stub.zip", good_zip[:40]))
check(line.get("verdict") == "unscannable" and line["unscannable"][0]["reason"] == "corrupt",
      "a zip cut after 40 bytes: typed by its signature, unscannable corrupt")
p, line = one(put("corrupt/doc.pdf", b"%PDF-1.4\n1 0 obj<</Filter/FlateDecode>>stream\nx\x9c...\n"))
check(line.get("verdict") == "unscannable" and line["unscannable"][0]["reason"] == "corrupt",
      "a broken PDF (poppler cannot open it) is held as corrupt, not passed")
tgz = tar_bytes([("a.txt", os.urandom(50000))], "w:gz")
p, line = one(put("corrupt/trunc.tar.gz", tgz[: len(tgz) - 2000]))
check(line.get("verdict") == "unscannable" and line["unscannable"][0]["reason"] == "corrupt",
      "truncated tar.gz: unscannable corrupt (got %s)" % line.get("unscannable"))

# bytes hidden after the end of a tar are never passed unread
plain_tar = tar_bytes([("a.txt", b"rien")], "w")
for name, data in [("hidden.tar", plain_tar + body_iban), ("hidden.tar.gz", gzip.compress(plain_tar + body_iban))]:
    p, line = one(put("corrupt/" + name, data))
    check(line.get("verdict") != "clean" and line.get("action") == "quarantine",
          "%s: data after the end of the tar is held (%s)" % (name, line.get("unscannable")))
# a gzip of zeros looks like an empty tar to a guesser: it must still be read
p, line = one(put("corrupt/zeros.gz", gzip.compress(b"\0" * 4096 + body_iban)))
check(line.get("verdict") == "flagged", "gzip of zeros then an IBAN: read, flagged")

# --- limits ---------------------------------------------------------------------
conf = put("limits.conf", b"""limits = { max_depth = 3; max_members = 50; max_expanded = "20M";
  max_ratio = 100; max_file_size = "1M"; };\n""")
deep = body_iban
for i in range(6):
    deep = zip_bytes([("level%d.zip" % i if i else "deep.txt", deep)])
p, line = one(put("limits/deep.zip", deep), conf)
check(line.get("verdict") == "unscannable" and line["unscannable"][0]["reason"] == "limit:depth",
      "nesting past max_depth: limit:depth")
many = zip_bytes([("f%03d.txt" % i, b"x") for i in range(80)])
p, line = one(put("limits/many.zip", many), conf)
check(line.get("unscannable") and line["unscannable"][0]["reason"] == "limit:members", "80 members > 50: limit:members")
bomb = gzip.compress(b"\0" * (200 << 20), 9)
t0 = time.time()
p, line = one(put("limits/bomb.gz", bomb), conf)
took = time.time() - t0
check(line.get("verdict") == "unscannable" and line["unscannable"][0]["reason"] in ("limit:ratio", "limit:expanded"),
      "gzip bomb stopped (%s) in %.2fs" % (line.get("unscannable"), took))
p, line = one(put("limits/big.txt", b"a" * (2 << 20)), conf)
check(line.get("unscannable") == [{"where": "big.txt", "reason": "limit:size"}], "file over max_file_size: limit:size")
# a legitimate archive within the defaults is read in full: no limit hit
p, line = one(put("limits/ok.zip", zip_bytes([("big.csv", b"1;2;3\n" * 400000), ("z.txt", body_iban)])))
check(line.get("verdict") == "flagged" and not line.get("unscannable"), "a 2.4 MB zip member within the defaults is read in full")

# --- folders, special files, names ----------------------------------------------
d = os.path.join(tmp, "tree")
put("tree/clean.txt", b"bonjour\n")
put("tree/sub/deeper/nir.txt", body_nir)
os.symlink("/etc/shadow", os.path.join(d, "shadow-link"))
os.mkfifo(os.path.join(d, "pipe"))
weird = os.path.join(d.encode(), b"caf\xe9 " + ("%s.txt" % nir).encode())
with open(weird, "wb") as fh:
    fh.write(b"rien\n")
t0 = time.time()
p, lines = scan([d])
check(time.time() - t0 < 20, "a FIFO in a folder does not hang the scan")
by = {l["path"]: l for l in lines}
check(p.returncode == 1, "exit 1 for a tree with flagged files")
check(by.get(d + "/clean.txt", {}).get("verdict") == "clean", "clean file clean")
check(by.get(d + "/sub/deeper/nir.txt", {}).get("verdict") == "flagged", "recursion into subfolders")
for name in ("shadow-link", "pipe"):
    l = by.get(d + "/" + name, {})
    check(l.get("verdict") == "unscannable" and l["unscannable"][0]["reason"] == "special-file",
          "%s: unscannable special-file, not followed" % name)
masked_name = [k for k in by if k.startswith(d + "/caf\\xe9 ")]
check(len(masked_name) == 1 and nir not in masked_name[0] and "** *** *** **" in masked_name[0],
      "invalid UTF-8 escaped and NIR masked in a name: %s" % masked_name)
if masked_name:
    check(finding(by[masked_name[0]], "fr_nir"), "an identifier in a file name is a finding")

# exit 0 when all clean; exit 1 and a line for a path that does not exist
p, lines = scan([d + "/clean.txt"])
check(p.returncode == 0, "exit 0 when everything is clean")
p, lines = scan([os.path.join(tmp, "missing.txt")])
check(p.returncode == 1 and lines and lines[0]["unscannable"][0]["reason"] == "io-error",
      "a path that cannot be opened is reported unscannable (io-error)")

# --- configuration errors and language ---------------------------------------------
bad = put("bad.conf", b"limits = {\n  max_dept = 3;\n};\n")
p = vgfix.run([vigiectl, "scan", "-c", bad, d])
check(p.returncode == 2 and "bad.conf:2: unknown key 'limits.max_dept'" in p.stderr, "broken config: exit 2 with FILE:LINE and key")
p = vgfix.run([vigiectl, "scan"])
check(p.returncode == 2, "usage error: exit 2")
en = put("en.conf", b'alerts = { language = "en"; };\n')
p = vgfix.run([vigiectl, "scan", "-c", en, d + "/sub"])
check("[flagged]" in p.stdout, "English output on request")
p = vgfix.run([vigiectl, "scan", d + "/sub"])
check("[signalé]" in p.stdout, "French output by default")
no_leak(p.stdout, planted, "readable output")
mon = put("mon.conf", b"")
p, lines = vgfix.scan_json(a.build, [d + "/sub"], mon, ["--policy", "monitor"])
check(lines and lines[0]["action"] == "alert" and lines[0].get("monitor") is True, "monitor policy: alert, says so")

finish(tmp)
