#!/usr/bin/env python3
"""The text fast path of sniff.c against libmagic alone, on generated files:
tests/unit/test_sniff.c (built as test_sniff) walks the folders in VG_SNIFF_DIRS
and compares both halves on every head, whole and cut short. Here we fill such
a folder: hostile.py's set (all but the bombs, slow to make; their heads are
zips like the others), a small corpus from gen_corpus.py with another
seed, mails from mailfix.py, archives from archfix.py, the members of every zip
and tar among them (what the engine sniffs inside archives), and heads built
around vgfix.py's identifiers."""
import os
import stat
import subprocess
import sys
import tarfile
import zipfile

import common

A = common.args()
sys.path.insert(0, os.path.join(A.source, "tests", "bench"))
import archfix  # noqa: E402
import gen_corpus  # noqa: E402
import hostile  # noqa: E402
import mailfix  # noqa: E402
import vgfix  # noqa: E402

tmp = common.scratch("sniff")
gen = os.path.join(tmp, "gen")
os.makedirs(gen)


def put(name, data):
    p = os.path.join(gen, name)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


hostile.generate(os.path.join(tmp, "hostile"), groups={"ambiguity", "encrypted", "corrupt",
                                                        "documents", "mails", "text", "special"})
subprocess.run([sys.executable, os.path.join(A.source, "tests", "bench", "gen_corpus.py"),
                os.path.join(tmp, "corpus"), "--seed", "20261129", "--scale", "0.01"],
               check=True, stdout=subprocess.DEVNULL)

r = vgfix.rng(77)
iban, nir = vgfix.french_iban(r), vgfix.nir(r)
text = "Virement sur %s pour le dossier %s.\n" % (vgfix.spaced(iban), vgfix.nir_spaced(nir))
put("mail/uu.eml", "From: a@b.fr\nSubject: x\n\n" + mailfix.uu("note.txt", text.encode()))
put("mail/long.eml", mailfix.long_header(b"X-Long: " + b"a" * 3000))
put("mail/b64.eml", mailfix.b64_mail("text/plain", text, lambda e: e[:-7]))
put("mail/nested.eml", mailfix.nest_multipart(vgfix.spaced(iban)))
put("mail/message.eml", mailfix.nest_message(vgfix.spaced(iban)))
put("mail/parts.eml", mailfix.many_parts(vgfix.spaced(iban)))
ooxml = [("[Content_Types].xml", "<?xml version=\"1.0\"?><Types/>"), ("word/document.xml", "<w/>")]
put("arch/ooxml.docx", archfix.zip_bytes(ooxml))
put("arch/odf.odt", archfix.zip_bytes([("mimetype", "application/vnd.oasis.opendocument.text"),
                                       ("content.xml", "<o/>")], method=zipfile.ZIP_STORED))
put("arch/plain.zip", archfix.zip_bytes([("note.txt", text), ("data.csv", "a;b\n1;2\n")]))
put("arch/note.tar", archfix.tar_of("note.txt", text.encode()))
put("arch/rar4.rar", archfix.rar4([("note.txt", text.encode())]))
for k, pre in enumerate(["", "Objet : paiement\n", "IBAN;NIR\n", "{\"iban\": \"", "<p>"]):
    put("ids/%d.txt" % k, pre + text)

# Members, as the engine sniffs them inside archives.
n_members = 0
for root, _dirs, files in os.walk(tmp):
    for f in files:
        p = os.path.join(root, f)
        if not stat.S_ISREG(os.lstat(p).st_mode):
            continue  # hostile.py makes a FIFO too
        try:
            if zipfile.is_zipfile(p):
                with zipfile.ZipFile(p) as z:
                    for i, m in enumerate(z.infolist()[:50]):
                        with z.open(m) as fo:  # a head only: some members are bombs
                            put("members/%d-%s" % (n_members, i), fo.read(65536))
                        n_members += 1
            elif tarfile.is_tarfile(p):
                with tarfile.open(p) as t:
                    for i, m in enumerate(t.getmembers()[:50]):
                        fo = t.extractfile(m) if m.isfile() else None
                        if fo:
                            put("members/%d-%s" % (n_members, i), fo.read(65536))
                            n_members += 1
        except Exception:  # a hostile archive: its members are not needed here
            continue
common.check(n_members > 50, "archive members written (%d)" % n_members)

# The committed guards are those of the installed database (else the fast path
# is off and test_taken fails: regenerate with tests/tools/sniff_guards.py).
gen_h = subprocess.run(
    [sys.executable, os.path.join(A.source, "tests", "tools", "sniff_guards.py")],
    capture_output=True)
with open(os.path.join(A.source, "scanners", "sniff_guards.h"), "rb") as f:
    common.check(gen_h.returncode == 0 and gen_h.stdout == f.read(),
                 "scanners/sniff_guards.h matches the installed magic.mgc")

env = dict(os.environ, VG_SNIFF_DIRS=tmp)
run = subprocess.run([os.path.join(A.build, "test_sniff")], env=env, capture_output=True,
                     text=True)
out = run.stdout + run.stderr
print("\n".join(line for line in out.splitlines() if line.startswith(("sniff", "MISMATCH"))))
common.check(run.returncode == 0, "fast path and libmagic agree on every head")
files = [line for line in out.splitlines() if line.startswith("sniff files:")]
common.check(bool(files), "test_sniff walked the generated files")
if files:
    words = files[0].split()
    heads, fast = int(words[2]), int(words[4])
    common.check(heads > 2000, "at least 2000 heads compared (%d)" % heads)
    common.check(fast > heads // 10, "the fast path took a real share (%d of %d)" % (fast, heads))
common.check(iban not in out and nir not in out, "no identifier in the output")
common.finish(tmp)
