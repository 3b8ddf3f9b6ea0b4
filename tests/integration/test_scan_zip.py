"""The issue's end-to-end case: a zip holding a text file with a valid IBAN and
another with an IBAN whose check digits are wrong; `vigiectl scan --json`."""

import os
import zipfile

from common import args, check, finish, no_leak, scratch, vgfix

a = args()
tmp = scratch("zip")
rng = vgfix.rng(2)
good = vgfix.french_iban(rng)
# same account, check digits off by one: must not count
bad = good[:2] + "%02d" % ((int(good[2:4]) + 1) % 100) + good[4:]
assert vgfix.iban_valid(good) and not vgfix.iban_valid(bad)

z = os.path.join(tmp, "a.zip")
with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as f:
    f.writestr("compta/virement.txt", "Merci de virer sur %s avant vendredi.\n" % vgfix.spaced(good))
    f.writestr("compta/faux.txt", "Ancien compte %s (clos).\n" % vgfix.spaced(bad))
    f.writestr("lisezmoi.txt", "Rien de sensible ici.\n")

clean = os.path.join(tmp, "b.zip")
with zipfile.ZipFile(clean, "w", zipfile.ZIP_DEFLATED) as f:
    f.writestr("compta/faux.txt", "Ancien compte %s (clos).\n" % vgfix.spaced(bad))

p, lines = vgfix.scan_json(a.build, [z, clean])
check(p.returncode == 1, "exit status 1 when something is flagged (got %d)" % p.returncode)
check(len(lines) == 2, "one JSON line per top-level file")
r = {os.path.basename(l["path"]): l for l in lines}
za = r.get("a.zip", {})
check(za.get("verdict") == "flagged", "a.zip flagged")
check(za.get("action") == "quarantine", "a.zip action quarantine")
check(za.get("type") == "application/zip", "a.zip typed application/zip by content")
f = za.get("findings", [])
check(len(f) == 1 and f[0]["detector"] == "iban", "exactly one iban finding")
if f:
    check(f[0]["where"] == "a.zip/compta/virement.txt", "where is a.zip/compta/virement.txt")
    check(f[0]["count"] == 1, "count 1: the IBAN with wrong check digits is not counted")
    want = good[:4] + " **** **** **** **** **** " + good[-3:]
    check(f[0]["masked"] == [want], "masked sample %s" % want)
check(za.get("unscannable") == [], "nothing unscannable in a.zip")
zb = r.get("b.zip", {})
check(zb.get("verdict") == "clean" and zb.get("action") == "pass", "b.zip (wrong check digits only) clean")
no_leak(p.stdout + p.stderr, [good], "json output")

# the readable output neither
p2 = vgfix.run([os.path.join(a.build, "vigiectl"), "scan", z])
check(p2.returncode == 1, "readable output: exit 1")
check("a.zip/compta/virement.txt" in p2.stdout, "readable output names the place")
no_leak(p2.stdout + p2.stderr, [good], "readable output")

finish(tmp)
