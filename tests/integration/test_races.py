"""Scripted races against the running daemon (gate route), each bounded in time:
a dropped file swapped for a symlink to a file outside the route (a sentinel of
ours carrying an IBAN, and /etc/shadow), its parent folder swapped for a symlink
to a folder outside, a file rewritten while it is scanned, a file swapped for a
FIFO, and a hard link to a file outside the route.

Nothing outside the route is read (the sentinels' access times are set in the
past: on a relatime mount any read would move them), moved or copied into the
store; the bytes judged are the bytes delivered or kept (SHA-256 of what the
store holds or of what was delivered); no dropped file is lost."""

import hashlib
import os
import random
import stat
import time

from common import args, check, finish, no_leak, scratch, vgfix
from daemon_harness import Daemon

a = args()
tmp = scratch("races")
os.chmod(tmp, 0o755)
rng = vgfix.rng(77)
r = random.Random(77)
planted = []
ROUNDS = 8           # per race; each round is a few hundred milliseconds
SETTLE = 0.3


def sha(data):
    return hashlib.sha256(data).hexdigest()


def file_sha(path):
    with open(path, "rb") as f:
        return sha(f.read())


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def flagged_body():
    v = vgfix.french_iban(rng)
    planted.append(v)
    return ("Virement confidentiel : %s\n" % vgfix.spaced(v)).encode()


# --- sentinels outside the route --------------------------------------------------
outside = os.path.join(tmp, "outside")
os.makedirs(outside)
secret_path = os.path.join(outside, "secret-outside")
secret = flagged_body()
write(secret_path, secret)
outside_dir = os.path.join(outside, "dossier")
write(os.path.join(outside_dir, "a.txt"), flagged_body())
OLD = time.time() - 3 * 86400


def age(path):
    """atime 3 days ago, mtime 4 days ago: on relatime the next read moves atime."""
    os.utime(path, (OLD, OLD - 86400), follow_symlinks=False)


sentinels = [secret_path, os.path.join(outside_dir, "a.txt")]
hashes = {p: file_sha(p) for p in sentinels}
for p in sentinels:
    age(p)
before = {p: (os.stat(p).st_ino, os.stat(p).st_atime, hashes[p]) for p in sentinels}
outside_shas = {b[2] for b in before.values()}
shadow = "/etc/shadow"
shadow_before = None
if os.path.exists(shadow):
    st = os.stat(shadow)
    shadow_before = (st.st_ino, st.st_mtime, st.st_size, file_sha(shadow))
    outside_shas.add(shadow_before[3])

d = Daemon(a.build, os.path.join(tmp, "d"), settle=SETTLE)
os.chmod(d.root, 0o1777)  # workers.tmpdir, for an unprivileged worker
d.start()
kept = os.path.join(tmp, "kept")  # where the test moves what it swaps away
os.makedirs(kept)
dropped = {}  # content hash -> description, for the no-loss check
T0 = time.time()


def swap_in(path, make):
    """Moves the file at `path` away (into `kept`) and puts make(tmp) in its
    place with a rename. Returns False when the daemon had claimed it first."""
    tmpname = os.path.join(d.watch, ".swap-%d" % r.randrange(10 ** 9))
    make(tmpname)
    try:
        os.rename(path, os.path.join(kept, "%d-%s" % (r.randrange(10 ** 9), os.path.basename(path))))
    except FileNotFoundError:
        os.unlink(tmpname)
        return False
    os.rename(tmpname, path)
    return True


def symlink_to(target):
    return lambda p: os.symlink(target, p)


def fifo(p):
    os.mkfifo(p)


def hardlink_to(target):
    return lambda p: os.link(target, p)


# --- 1. file swapped for a symlink (sentinel, /etc/shadow), a FIFO, a hard link ---
races = [("symlink to a file outside", symlink_to(secret_path)),
         ("symlink to /etc/shadow", symlink_to(shadow)),
         ("FIFO", fifo),
         ("hard link to a file outside", hardlink_to(secret_path))]
swapped = {}
for k, (what, make) in enumerate(races):
    n = 0
    for i in range(ROUNDS):
        name = "r%d-%s-%d.txt" % (k, what.split()[0].lower(), i)
        body = ("Note %s %d, rien de sensible.\n" % (what, i)).encode()
        dropped[sha(body)] = name
        p = os.path.join(d.watch, name)
        write(p, body)
        # before the settle time, around it, and just after it
        time.sleep(r.uniform(0, SETTLE * 3))
        if swap_in(p, make):
            n += 1
    swapped[what] = n
    print("# %s: swapped %d of %d drops before the daemon claimed them" % (what, n, ROUNDS))
# the hard links stay in the folder (never moved): they are the only files left
links = swapped["hard link to a file outside"]
check(d.settled(timeout=60, expect_left=links), "swaps: the daemon decided everything and did not hang (%s)"
      % d.waiting()[:3])
check(os.stat(secret_path).st_nlink == 1 + links, "the hard links to the sentinel were left where they were")

# --- 2. parent folder swapped for a symlink to a folder outside --------------------
n = 0
for i in range(ROUNDS):
    sub = os.path.join(d.watch, "dossier-%d" % i)
    body = ("Compte rendu %d.\n" % i).encode()
    dropped[sha(body)] = "dossier-%d/a.txt" % i
    write(os.path.join(sub, "a.txt"), body)
    time.sleep(r.uniform(0, SETTLE * 3))
    try:
        os.rename(sub, os.path.join(kept, "dossier-%d" % i))
    except FileNotFoundError:
        continue
    os.symlink(outside_dir, sub)
    n += 1
print("# parent folder swapped for a symlink: %d of %d" % (n, ROUNDS))
check(d.settled(timeout=60, expect_left=links), "parent swaps: the daemon decided everything")

# --- 3. a file rewritten while it is scanned --------------------------------------
# A writer keeps its descriptor across the claim (as a slow SMB client may) and
# appends an IBAN once the file is in staging, while the worker reads it.
rewrites = []
for i in range(4):
    name = "gros-%d.txt" % i
    p = os.path.join(d.watch, name)
    clean = ("ligne de texte ordinaire %d\n" % i).encode() * (1200000 + i)
    extra = flagged_body()
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    fd2 = os.open(p, os.O_WRONLY | os.O_APPEND)
    os.write(fd, clean)
    os.close(fd)  # IN_CLOSE_WRITE: the daemon will claim it after settling
    end = time.time() + 10
    while time.time() < end and not any(s.endswith(name) for s in d.staged()):
        time.sleep(0.005)
    claimed = any(s.endswith(name) for s in d.staged())
    time.sleep(r.uniform(0, 0.3))
    os.write(fd2, extra)
    os.close(fd2)
    rewrites.append((name, clean, clean + extra, claimed))
check(d.settled(timeout=120, expect_left=links), "rewrites: decided")
for name, first, final, claimed in rewrites:
    held = [it for it in d.items() if it["name"] == name]
    dpath = os.path.join(d.deliver, name)
    if held:
        s = d.ctl_json("show", held[0]["id"])
        with open(os.path.join(d.store, "blobs", held[0]["id"]), "rb") as f:
            blob = f.read()
        check(sha(blob) == s["sha256"], "%s: the blob kept is the bytes judged (SHA-256)" % name)
        check(blob == final, "%s: held with the rewritten bytes (claimed before the write: %s)" % (name, claimed))
        dropped[sha(final)] = name
    else:
        with open(dpath, "rb") as f:
            got = f.read()
        check(got == first, "%s: delivered, and what was delivered is what was judged clean "
              "(the IBAN was written after delivery)" % name)
        dropped[sha(got)] = name
    check(not (held and os.path.exists(dpath)), "%s: in exactly one place" % name)
check(d.settled(timeout=60, expect_left=links), "rewrites: nothing left")

# --- what the races left --------------------------------------------------------------
took = time.time() - T0
items = d.items()
stored = {}
for it in items:
    s = d.ctl_json("show", it["id"])
    stored[s["sha256"]] = it
check(not (outside_shas & set(stored)), "nothing outside the route was copied into the store")
blob_text = b""
for b in os.listdir(os.path.join(d.store, "blobs")):
    with open(os.path.join(d.store, "blobs", b), "rb") as f:
        blob_text += f.read()
check(secret not in blob_text, "the sentinel's bytes are in no blob")
delivered_shas = {}
for rel in d.delivered():
    delivered_shas[file_sha(os.path.join(d.deliver, rel))] = rel
check(not (outside_shas & set(delivered_shas)), "nothing outside the route was delivered")
for p in sentinels:
    st = os.stat(p)  # before reading them here
    ino, atime, h = before[p]
    check(st.st_atime == atime, "%s: never read (access time unchanged)" % os.path.relpath(p, tmp))
    check(st.st_ino == ino and file_sha(p) == h, "%s: still there, unchanged" % os.path.relpath(p, tmp))
if shadow_before:
    st = os.stat(shadow)
    check((st.st_ino, st.st_mtime, st.st_size, file_sha(shadow)) == shadow_before,
          "/etc/shadow unchanged (read-only check)")
kept_shas = set()
for dp, dn, fn in os.walk(kept):
    for f in fn:
        kept_shas.add(file_sha(os.path.join(dp, f)))
lost = [n for h, n in dropped.items() if h not in stored and h not in delivered_shas and h not in kept_shas]
check(not lost, "no dropped file lost: each is delivered, held, or was swapped away by the test (%s)" % lost[:5])
left = [os.path.relpath(p, d.watch) for p in d.staged()]
check(not left, "nothing stuck in staging (%s)" % left[:3])
for dp, dn, fn in os.walk(d.watch):
    for f in fn + dn:
        p = os.path.join(dp, f)
        if os.path.islink(p):
            check(os.readlink(p) in (secret_path, shadow, outside_dir), "links left as they were: %s" % f)
        elif stat.S_ISFIFO(os.lstat(p).st_mode):
            check(".vigie-staging" not in p, "FIFO left in the watched folder, not in staging: %s" % f)
check(d.proc.poll() is None and d.status()["workers"]["count"] == 2, "the daemon and its workers are alive")
no_leak(d.read_log() + d.ctl("list").stdout, planted, "races: log and list")
d.stop()
print("# races: %d drops and swaps in %.1f s, %d held, %d delivered" % (len(dropped), took, len(items),
                                                                     len(delivered_shas)))
finish(tmp)
