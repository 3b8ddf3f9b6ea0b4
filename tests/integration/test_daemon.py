"""vigied for real, in a temporary root: gate and in-place routes, the store,
vigiectl's verbs, a burst of 1,000 files, links and FIFOs, a worker killed
mid-scan, a non-admin refused, and readiness and watchdog over NOTIFY_SOCKET."""

import io
import json
import os
import shutil
import stat
import subprocess
import time
import zipfile

from common import args, check, finish, no_leak, scratch, vgfix
from daemon_harness import Daemon

a = args()
tmp = scratch("daemon")
os.chmod(tmp, 0o755)  # the non-admin test reads the config and reaches the socket
rng = vgfix.rng(5)
iban = vgfix.french_iban(rng)
nir = vgfix.nir(rng)
planted = [iban, nir]
flag_body = "Virement sur %s, salarié %s\n" % (vgfix.spaced(iban), vgfix.nir_spaced(nir))


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # the daemon may claim the file as soon as it is closed: nothing after that
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def every_output(d):
    """Everything vigie showed anyone: log, notices, vigiectl list/show."""
    text = d.read_log()
    for dp, dn, fn in os.walk(d.watch):
        for f in fn:
            if ".vigie-" in f:
                with open(os.path.join(dp, f), errors="replace") as fh:
                    text += fh.read()
    text += d.ctl("list").stdout + json.dumps(d.items())
    for it in d.items():
        text += d.ctl("show", it["id"]).stdout + d.ctl("show", it["id"], "--json").stdout
    return text


# --- gate mode ------------------------------------------------------------------
root = os.path.join(tmp, "gate")
d = Daemon(a.build, root).start()
check(d.ready_after is not None and d.ready_after < 30, "READY=1 received (%.2fs)" % (d.ready_after or -1))
check(d.wait_message("WATCHDOG=1", 5), "watchdog pings received")
write(os.path.join(d.watch, "compte-rendu.txt"), "Réunion de lundi, rien de sensible.\n")
write(os.path.join(d.watch, "rh", "paie.txt"), flag_body)
zb = io.BytesIO()
with zipfile.ZipFile(zb, "w") as z:
    z.writestr("a.txt", "x")
enc_src = os.path.join(tmp, "encsrc")
write(os.path.join(enc_src, "secret.txt"), flag_body)
subprocess.run(["zip", "-q", "-P", "pw", os.path.join(d.watch, "chiffre.zip"), "secret.txt"],
               cwd=enc_src, check=True)
check(d.settled(), "gate: every file decided")
check(d.delivered() == ["compte-rendu.txt"], "gate: only the clean file delivered (%s)" % d.delivered())
items = {it["name"]: it for it in d.items()}
check(set(items) == {"paie.txt", "chiffre.zip"}, "gate: flagged and unscannable files held (%s)" % list(items))
check(items.get("paie.txt", {}).get("verdict") == "flagged", "paie.txt flagged")
check(items.get("chiffre.zip", {}).get("verdict") == "unscannable", "chiffre.zip unscannable")
check(os.path.exists(os.path.join(d.watch, "rh", "paie.txt.vigie-retenu.txt")), "notice next to the held upload")
with open(os.path.join(d.watch, "rh", "paie.txt.vigie-retenu.txt")) as f:
    notice = f.read()
check(items.get("paie.txt", {}).get("id", "?") in notice and "coordonnées bancaires" in notice,
      "the notice gives the reference and the kind of data, in French")
show = d.ctl_json("show", items["paie.txt"]["id"])
check(show["origin"] == os.path.join(d.watch, "rh", "paie.txt") and show["owner"] == "root" and
      show["events"] and show["state"] == "held", "show: origin, owner, events, state")
check({f["detector"] for f in show["report"]["findings"]} >= {"iban", "fr_nir"}, "show: masked findings")
no_leak(every_output(d), planted, "gate mode outputs")

# release: needs a reason, goes back to deliver/rh/, a clash gets a suffix
pid = items["paie.txt"]["id"]
p = d.ctl("release", pid)
check(p.returncode == 2, "release without --reason is refused")
write(os.path.join(d.deliver, "rh", "paie.txt"), "an older file with the same name\n")
p = d.ctl("release", pid, "--reason", "IBAN de l'entreprise, à transmettre")
check(p.returncode == 0 and os.path.exists(os.path.join(d.deliver, "rh", "paie (1).txt")),
      "release: restored next to an existing file without overwriting it (%s)" % p.stdout.strip())
with open(os.path.join(d.deliver, "rh", "paie.txt")) as f:
    check(f.read().startswith("an older"), "the existing file is untouched")
p = d.ctl("release", pid, "--reason", "again")
check(p.returncode != 0, "an item released once cannot be released again")
check(d.ctl_json("show", pid)["state"] == "released", "state released")
# --to outside the route is refused; delete
cid = items["chiffre.zip"]["id"]
p = d.ctl("release", cid, "--reason", "x", "--to", "/etc")
check(p.returncode != 0 and "--to" in p.stderr, "--to outside the route is refused")
p = d.ctl("delete", cid, "--reason", "archive chiffrée inconnue")
check(p.returncode == 0 and d.ctl_json("show", cid)["state"] == "deleted" and
      not os.path.exists(os.path.join(d.store, "blobs", cid)), "delete: state deleted, blob removed")
check(len(d.ctl_json("list", "--route", "vers-ia")) == 2 and d.ctl_json("list", "--route", "autre") == [],
      "list --route")
check(len(d.ctl_json("list", "--since", "1h")) == 2 and d.ctl_json("list", "--since", "2099-01-01") == [],
      "list --since")
# --allow: the same content passes next time
write(os.path.join(d.watch, "again.txt"), flag_body)
check(d.settled(), "second flagged file decided")
aid = [it["id"] for it in d.items() if it["name"] == "again.txt"]
check(len(aid) == 1, "second flagged file held")
if aid:
    d.ctl("release", aid[0], "--reason", "contenu validé", "--allow")
    write(os.path.join(d.watch, "encore.txt"), flag_body)
    check(d.settled(), "third drop decided")
    check("encore.txt" in d.delivered(), "release --allow: the same content passes from then on")
import sqlite3
db = sqlite3.connect(os.path.join(d.store, "vigie.db"))
audit = db.execute("SELECT uid, user, action, item, reason FROM audit ORDER BY seq").fetchall()
db.close()
check([r[2] for r in audit] == ["release", "delete", "release-allow"] and all(r[1] == "root" and r[4] for r in audit),
      "audit log: uid, user, action, reason (%s)" % [r[2] for r in audit])

# links and FIFOs: never read, moved or stored
os.symlink("/etc/shadow", os.path.join(d.watch, "shadow"))
os.mkfifo(os.path.join(d.watch, "tube"))
outside = os.path.join(tmp, "outside.txt")
write(outside, flag_body)
os.link(outside, os.path.join(d.watch, "lien-dur.txt"))
time.sleep(1)
check(d.settled(expect_left=1), "special files: the daemon goes on")
check(os.path.islink(os.path.join(d.watch, "shadow")) and stat.S_ISFIFO(os.lstat(os.path.join(d.watch, "tube")).st_mode),
      "the symlink and the FIFO stay where they are")
check(os.path.exists(os.path.join(d.watch, "lien-dur.txt")) and os.stat(outside).st_nlink == 2,
      "a file with two hard links is not moved")
check(not any(n in ("shadow", "tube", "lien-dur.txt") for n in d.delivered()) and
      not any(it["name"] in ("shadow", "tube", "lien-dur.txt") for it in d.items()),
      "nothing of them delivered or stored")
log = d.read_log()
check(log.count("reason=special-file") >= 3, "each special file logged as special-file")
os.unlink(os.path.join(d.watch, "lien-dur.txt"))

# a worker killed in the middle of a scan: as soon as the big file is claimed
# (it is then in staging, on its way to a worker), the workers are killed
big = os.path.join(d.watch, "gros.txt")
tmp_big = os.path.join(tmp, "gros.txt")
write(tmp_big, ("x" * 99 + "\n") * 1500000)  # 150 MB: under max_file_size (200M), so it is read
os.rename(tmp_big, big)
deadline = time.time() + 20
killed = False
while time.time() < deadline and not killed:
    if any(p.endswith("gros.txt") for p in d.staged()):
        for w in d.worker_pids():
            os.kill(w, 9)
        killed = True
    time.sleep(0.002)
check(killed, "killed the workers while the big file was being scanned")
check(d.settled(), "the daemon goes on after a worker crash")
gros = [it for it in d.items() if it["name"] == "gros.txt"]
check(len(gros) == 1 and gros[0]["verdict"] == "unscannable", "the file being scanned is held unscannable")
check("gros.txt" not in d.delivered(), "and not delivered")
if gros:
    rep = d.ctl_json("show", gros[0]["id"])["report"]
    check(rep["unscannable"][0]["reason"] == "worker-crash", "reason worker-crash")
write(os.path.join(d.watch, "apres.txt"), "rien\n")
check(d.settled() and "apres.txt" in d.delivered(), "a new worker serves the next file")
check(d.status()["workers"]["count"] == 2, "the pool is back to full strength")

# a non-admin is refused with a clear message
p = d.ctl("list", user=65534)
check(p.returncode != 0 and "refused" in p.stderr, "a user outside the admin group is refused (%s)" % p.stderr.strip())
check("event=control-refused" in d.read_log(), "the refusal is logged")
rc = d.stop()
check(rc == 0, "clean exit on SIGTERM")

# --- 1,000 files at once ----------------------------------------------------------
root = os.path.join(tmp, "burst")
d = Daemon(a.build, root).start()
n, nflag = 1000, 0
t0 = time.time()
for i in range(n):
    sub = "lot%d" % (i % 10)
    if i % 20 == 0:
        body = "Facture %d, IBAN %s\n" % (i, vgfix.spaced(vgfix.french_iban(rng)))
        nflag += 1
    else:
        body = "Note %d : réunion, devis, planning.\n" % i
    write(os.path.join(d.watch, sub, "f%04d.txt" % i), body)
ok = d.settled(timeout=300)
took = time.time() - t0
delivered = d.delivered()
held = d.items()
check(ok, "1,000 files: all decided (%.1fs)" % took)
check(len(delivered) + len(held) + len(d.waiting()) == n,
      "source + deliver + quarantine add up to 1,000 (%d + %d + %d)" % (len(d.waiting()), len(delivered), len(held)))
check(len(held) == nflag and all(it["verdict"] == "flagged" for it in held), "the %d flagged files are held" % nflag)
flagged_names = {it["name"] for it in held}
check(not any(os.path.basename(p) in flagged_names for p in delivered), "no flagged file delivered")
print("burst: %d files in %.1fs (%.0f files/s)" % (n, took, n / took))
d.stop()

# --- files dropped while the daemon was down are decided at start ----------------
root = os.path.join(tmp, "offline")
d = Daemon(a.build, root)
write(os.path.join(d.watch, "pendant-arret.txt"), "rien\n")
write(os.path.join(d.watch, "sous/dossier/paie.txt"), flag_body)
d.start()
check(d.settled() and d.delivered() == ["pendant-arret.txt"] and len(d.items()) == 1,
      "files present at start are decided (rescan)")
# a folder created later is watched too
write(os.path.join(d.watch, "nouveau", "plus", "bas.txt"), "rien\n")
check(d.settled() and "nouveau/plus/bas.txt" in d.delivered(), "a folder created later is watched")
d.stop()

# --- in-place mode --------------------------------------------------------------
root = os.path.join(tmp, "inplace")
d = Daemon(a.build, root, mode="in-place").start()
write(os.path.join(d.watch, "propre.txt"), "rien\n")
write(os.path.join(d.watch, "paie.txt"), flag_body)
time.sleep(0.5)
check(d.settled(expect_left=1), "in-place: decided")
check(os.path.exists(os.path.join(d.watch, "propre.txt")), "in-place: the clean file stays")
check(not os.path.exists(os.path.join(d.watch, "paie.txt")) and
      os.path.exists(os.path.join(d.watch, "paie.txt.vigie-retenu.txt")), "in-place: flagged file moved out, tombstone left")
it = d.items()
check(len(it) == 1, "in-place: one item held")
if it:
    p = d.ctl("release", it[0]["id"], "--reason", "vérifié")
    time.sleep(1.0)
    check(d.settled(expect_left=2), "in-place: released file decided")
    check(os.path.exists(os.path.join(d.watch, "paie.txt")) and len(d.items()) == 1,
          "in-place: released back to its place and not held again")
d.stop()
finish(tmp)
