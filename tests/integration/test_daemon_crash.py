"""SIGKILL of vigied at each step of a claim, a quarantine move and a delivery
(crash points of test builds), in gate mode and (the store's points) in
in-place mode: after restart nothing is lost, nothing is duplicated, nothing
flagged was delivered."""

import hashlib
import os
import time

from common import args, check, finish, scratch, vgfix
from daemon_harness import Daemon

a = args()
tmp = scratch("crash")
rng = vgfix.rng(6)
points = ["claim-after-rename", "store-after-write", "store-after-blob", "store-before-commit",
          "store-after-commit", "deliver-after-rename"]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(data)


for point in points:
    root = os.path.join(tmp, point)
    d = Daemon(a.build, root)
    flagged = "IBAN %s\n" % vgfix.spaced(vgfix.french_iban(rng))
    clean = "note %s\n" % point
    d.start(env_extra={"VIGIE_CRASH_AT": point})
    write(os.path.join(d.watch, "dossier", "paie.txt"), flagged)
    write(os.path.join(d.watch, "note.txt"), clean)
    end = time.time() + 30
    while time.time() < end and d.proc.poll() is None:
        time.sleep(0.05)
    died = d.proc.poll() is not None
    check(died, "%s: vigied was killed at the crash point (test build with VIGIE_CRASHPOINTS)" % point)
    d.kill()
    d.start()
    check(d.settled(), "%s: after restart everything is decided" % point)
    held = [it for it in d.items() if it["state"] == "held"]
    sha = hashlib.sha256(flagged.encode()).hexdigest()
    same = [it for it in held if d.ctl_json("show", it["id"])["sha256"] == sha]
    check(len(same) == 1, "%s: the flagged file is held exactly once (%d)" % (point, len(same)))
    check(d.delivered() == ["note.txt"], "%s: only the clean file delivered, once (%s)" % (point, d.delivered()))
    blobs = os.listdir(os.path.join(d.store, "blobs"))
    check(sorted(blobs) == sorted(it["id"] for it in held), "%s: one blob per held item, no orphan" % point)
    check(not d.staged() and not d.waiting(), "%s: nothing left in staging or in the folder" % point)
    d.stop()

# In-place mode: the flagged file is moved out to the store, a clean one stays.
for point in ["store-after-write", "store-after-blob", "store-before-commit", "store-after-commit"]:
    root = os.path.join(tmp, "in-place-" + point)
    d = Daemon(a.build, root, mode="in-place")
    flagged = "IBAN %s\n" % vgfix.spaced(vgfix.french_iban(rng))
    d.start(env_extra={"VIGIE_CRASH_AT": point})
    write(os.path.join(d.watch, "dossier", "paie.txt"), flagged)
    write(os.path.join(d.watch, "note.txt"), "note\n")
    end = time.time() + 30
    while time.time() < end and d.proc.poll() is None:
        time.sleep(0.05)
    check(d.proc.poll() is not None, "in-place %s: vigied was killed at the crash point" % point)
    d.kill()
    d.start()
    check(d.settled(expect_left=1), "in-place %s: after restart everything is decided" % point)
    held = [it for it in d.items() if it["state"] == "held"]
    sha = hashlib.sha256(flagged.encode()).hexdigest()
    same = [it for it in held if d.ctl_json("show", it["id"])["sha256"] == sha]
    check(len(same) == 1, "in-place %s: the flagged file is held exactly once (%d)" % (point, len(same)))
    check(not os.path.exists(os.path.join(d.watch, "dossier", "paie.txt")) and
          os.path.exists(os.path.join(d.watch, "note.txt")),
          "in-place %s: the flagged file left the folder, the clean one stayed" % point)
    blobs = os.listdir(os.path.join(d.store, "blobs"))
    check(sorted(blobs) == sorted(it["id"] for it in held), "in-place %s: one blob per held item" % point)
    d.stop()
finish(tmp)
