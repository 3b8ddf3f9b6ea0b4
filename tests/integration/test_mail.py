"""Outgoing mail: vigie-sendmail stores durably or says EX_TEMPFAIL; vigied
forwards clean mail with its envelope, holds flagged mail and tells the sender,
forwards a released mail, keeps mail while the relay is down, bounces a
permanent refusal, applies the strict policy to AI-service domains."""

import base64
import email
import email.header
import hashlib
import io
import json
import os
import re
import subprocess
import zipfile
from email.message import EmailMessage
import sys
import time

from common import args, check, finish, no_leak, scratch, vgfix
from daemon_harness import Daemon

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from smtpsink import Sink  # noqa: E402

a = args()
tmp = scratch("mail")
os.chmod(tmp, 0o755)
rng = vgfix.rng(8)
iban = vgfix.french_iban(rng)
sink = Sink()
spool = os.path.join(tmp, "spool")
os.makedirs(os.path.join(spool, "tmp"))
os.makedirs(os.path.join(spool, "new"))
extra = ('policies = { strict = { detectors = { email = { threshold = 2; }; }; }; };\n'
         'routes = ( { name = "mail-sortant"; type = "mail"; spool = "%s";'
         ' forward = "smtp://127.0.0.1:%d"; internal_domains = [ "exemple.fr" ];'
         ' ai_domains_policy = "strict"; } );\n' % (spool, sink.port))
# A second route forwards through a sendmail-style program (a script that keeps
# its arguments and input, and answers what the file "answer" says).
spool2 = os.path.join(tmp, "spool2")
progdir = os.path.join(tmp, "prog")
os.makedirs(progdir)
prog = os.path.join(progdir, "fake-sendmail")
with open(prog, "w") as f:
    f.write("#!/usr/bin/python3\nimport os, sys, json\nd = %r\n"
            "code = int(open(os.path.join(d, 'answer')).read()) if os.path.exists(os.path.join(d, 'answer')) else 0\n"
            "data = sys.stdin.buffer.read()\n"
            "if code == 0:\n"
            "    n = len([x for x in os.listdir(d) if x.startswith('out-')])\n"
            "    json.dump({'argv': sys.argv[1:], 'data': data.decode('utf-8', 'replace')},"
            " open(os.path.join(d, 'out-%%03d.json' %% n), 'w'))\n"
            "sys.exit(code)\n" % progdir)
os.chmod(prog, 0o755)
extra = extra.replace(' ai_domains_policy = "strict"; } );',
                      ' ai_domains_policy = "strict"; },\n  { name = "mail-prog"; type = "mail";'
                      ' spool = "%s"; forward = "%s"; internal_domains = [ "exemple.fr" ];'
                      ' tell_sender_on_delete = true; } );' % (spool2, prog))
root = os.path.join(tmp, "d")
os.makedirs(root)
d = Daemon(a.build, root, extra="")
# a mail-only configuration
with open(d.conf, "w") as f:
    f.write('store = { dir = "%s"; };\ncontrol = { socket = "%s"; };\n'
            'workers = { count = 2; tmpdir = "%s"; };\nalerts = { mail = { from = "vigie@exemple.fr"; }; };\n'
            % (d.store, d.sock, d.tmpdir) + extra)
sendmail = os.path.join(a.build, "vigie-sendmail")


def submit(body, *args_, conf=None):
    return subprocess.run([sendmail, "-c", conf or d.conf] + list(args_), input=body.encode(),
                          capture_output=True)


def mail(to, subject, body, frm="alice@exemple.fr", extra_headers=""):
    return ("From: Alice <%s>\nTo: %s\nSubject: %s\nMessage-ID: <%s@exemple.fr>\n%s\n%s\n"
            % (frm, to, subject, abs(hash(subject + body)), extra_headers, body))


def zip_with(name, text):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, text)
    return b.getvalue()


def wait_for(pred, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False


def spool_empty():
    return not [n for n in os.listdir(os.path.join(spool, "new")) if not n.startswith(".")]


d.start()
# clean mail: forwarded with its envelope
p = submit(mail("bob@client.com", "Devis", "Voici le devis demandé."), "-f", "alice@exemple.fr",
           "bob@client.com")
check(p.returncode == 0, "vigie-sendmail accepts a mail (exit 0)")
check(wait_for(lambda: len(sink.messages) == 1), "the clean mail reaches the relay")
if sink.messages:
    frm, rcpts, data = sink.messages[0]
    check(frm == "alice@exemple.fr" and rcpts == ["bob@client.com"], "with the original envelope")
    check(b"Subject: Devis" in data and b"Message-ID:" in data, "the message unchanged, Message-ID kept")
check(wait_for(spool_empty), "the spool is empty once forwarded")

# flagged mail: held, the sender told, nothing forwarded
n0 = len(sink.messages)
p = submit(mail("bob@client.com", "RIB", "Mon IBAN : %s" % vgfix.spaced(iban)), "-f",
           "alice@exemple.fr", "bob@client.com")
check(p.returncode == 0, "flagged mail accepted by vigie-sendmail")
check(wait_for(lambda: len(d.items()) == 1), "the flagged mail is held")
time.sleep(1)
sent = sink.messages[n0:]
check(len(sent) == 1 and sent[0][1] == ["alice@exemple.fr"] and b"retenu" in sent[0][2],
      "only a notice goes out, to the sender (%d messages)" % len(sent))
it = d.items()[0] if d.items() else {}
show = d.ctl_json("show", it.get("id", "?")) if it else {}
check(show.get("kind") == "mail" and show.get("mail", {}).get("sender") == "alice@exemple.fr" and
      show.get("mail", {}).get("recipients") == ["bob@client.com"] and
      show.get("mail", {}).get("subject") == "RIB", "show: sender, recipients, subject")
no_leak(d.read_log() + str(show) + "".join(m[2].decode("utf-8", "replace") for m in sink.messages),
        [iban], "mail outputs")
# release forwards it with the original envelope
n1 = len(sink.messages)
p = d.ctl("release", it.get("id", "?"), "--reason", "IBAN de l'entreprise")
check(p.returncode == 0, "release of a held mail")
check(wait_for(lambda: len(sink.messages) == n1 + 1), "the released mail is forwarded")
if len(sink.messages) > n1:
    check(sink.messages[n1][1] == ["bob@client.com"] and b"Subject: RIB" in sink.messages[n1][2],
          "to its original recipient")

# relay down, then up: the mail arrives, exactly once
sink.mode = "tempfail"
n2 = len(sink.messages)
submit(mail("carol@client.com", "Planning", "Réunion jeudi."), "-f", "alice@exemple.fr", "carol@client.com")
time.sleep(3)
check(len(sink.messages) == n2 and not spool_empty(), "relay refusing for now: the mail waits in the spool")
check("event=mail-deferred" in d.read_log(), "the deferral is logged")
sink.mode = "accept"
check(wait_for(lambda: len(sink.messages) == n2 + 1, 40), "relay back: the mail arrives")
time.sleep(2)
check(len(sink.messages) == n2 + 1 and spool_empty(), "exactly once, spool empty")

# a permanent refusal bounces to the sender
sink.mode = "reject"
n3 = len(sink.messages)
submit(mail("dan@client.com", "Offre", "Bonjour."), "-f", "alice@exemple.fr", "dan@client.com")
check(wait_for(lambda: "event=mail-refused" in d.read_log()), "a 5xx refusal is recognised")
sink.mode = "accept"
check(wait_for(lambda: any(m[1] == ["alice@exemple.fr"] for m in sink.messages[n3:])),
      "the sender gets a notice")

# AI-service domain: the strict policy (two addresses are a list there)
n4 = len(d.items())
body = "Contacts : jean.dupont@exemple.fr, marie.martin@exemple.fr, paul@client.com"
submit(mail("inbox@openai.com", "Liste", body), "-f", "alice@exemple.fr", "inbox@openai.com")
check(wait_for(lambda: len(d.items()) == n4 + 1), "a mail to an AI-service domain gets the strict policy")
submit(mail("bob@client.com", "Liste", body), "-f", "alice@exemple.fr", "bob@client.com")
time.sleep(2)
check(len(d.items()) == n4 + 1, "the same mail to an ordinary recipient passes")

# -t: recipients from the headers; Bcc is not kept in the message
n5 = len(sink.messages)
m = "From: alice@exemple.fr\nTo: Bob <bob@client.com>, \"X, Y\" <xy@client.com>\nBcc: secret@client.com\nSubject: t\n\nhello\n"
p = submit(m, "-t", "-f", "alice@exemple.fr")
check(p.returncode == 0 and wait_for(lambda: len(sink.messages) == n5 + 1), "-t accepted and forwarded")
if len(sink.messages) > n5:
    check(sorted(sink.messages[n5][1]) == ["bob@client.com", "secret@client.com", "xy@client.com"],
          "-t: To, Cc and Bcc become recipients")
    check(b"Bcc:" not in sink.messages[n5][2], "-t: the Bcc header is removed")
    check(re.search(rb"^Message-ID: <[0-9a-f.]+@[^>]+>\r?$", sink.messages[n5][2], re.M) is not None,
          "a mail submitted without a Message-ID is given one, kept on every copy")

# --- a release while the relay is down survives a restart of vigied: sent once ---------------------
sink.mode = "tempfail"
n20 = len(d.items())
submit(mail("bob@client.com", "RIB 3", "IBAN %s" % vgfix.spaced(iban)), "-f", "alice@exemple.fr",
       "bob@client.com")
check(wait_for(lambda: len(d.items()) == n20 + 1), "held while the relay is down")
r3 = [i["id"] for i in d.items() if i.get("name") == "RIB 3"]
p = d.ctl("release", r3[0] if r3 else "?", "--reason", "voulu")
check(p.returncode == 0, "released while the relay is down")
time.sleep(2)
d.stop()
d.start()
sink.mode = "accept"


def rib3():
    return [m for m in sink.messages if m[1] == ["bob@client.com"] and b"Subject: RIB 3" in m[2]]


check(wait_for(rib3, 60), "after a restart of vigied, the released mail reaches the relay")
time.sleep(3)
check(len(rib3()) == 1, "exactly once (%d)" % len(rib3()))
check(d.ctl_json("show", r3[0] if r3 else "?").get("state") == "released", "the item says released")

# --- forward through a sendmail-style program -------------------------------------------------
def prog_outputs():
    out = []
    for n in sorted(os.listdir(progdir)):
        if n.startswith("out-"):
            with open(os.path.join(progdir, n)) as f:
                out.append(json.load(f))
    return out


p = submit(mail("bob@client.com", "Par programme", "Bonjour Bob."), "--route", "mail-prog", "-f",
           "alice@exemple.fr", "bob@client.com", "carol@client.com")
check(p.returncode == 0 and wait_for(lambda: len(prog_outputs()) == 1),
      "a clean mail is forwarded through the program")
out = prog_outputs()[:1]
check(out and out[0]["argv"] == ["-i", "-f", "alice@exemple.fr", "--", "bob@client.com",
                                 "carol@client.com"],
      "as PROG -i -f SENDER -- RCPT... (%s)" % (out[0]["argv"] if out else None))
check(out and out[0]["data"].startswith("From: Alice") and "VIGIE-ENVELOPE" not in out[0]["data"],
      "the program reads the message alone, without vigie's envelope block")
with open(os.path.join(progdir, "answer"), "w") as f:
    f.write("75")
submit(mail("bob@client.com", "Plus tard", "Bonjour."), "--route", "mail-prog", "-f",
       "alice@exemple.fr", "bob@client.com")
check(wait_for(lambda: d.read_log().count("event=mail-deferred route=mail-prog") >= 1),
      "the program says EX_TEMPFAIL: the mail is deferred")
os.unlink(os.path.join(progdir, "answer"))
check(wait_for(lambda: len(prog_outputs()) == 2, 40), "and forwarded once the program accepts")
with open(os.path.join(progdir, "answer"), "w") as f:
    f.write("67")
n6 = len(sink.messages)
submit(mail("nobody@client.com", "Inconnu", "Bonjour."), "--route", "mail-prog", "-f",
       "alice@exemple.fr", "nobody@client.com")
check(wait_for(lambda: "event=mail-refused route=mail-prog" in d.read_log()),
      "the program says EX_NOUSER: refused for good")
os.unlink(os.path.join(progdir, "answer"))
check(wait_for(lambda: len(prog_outputs()) == 3 and "Courriel non remis" in email.header.make_header(
    email.header.decode_header(email.message_from_string(prog_outputs()[2]["data"])["Subject"])
).__str__()), "the sender's notice goes out through the program too")

# --- delete tells the sender when the route says so ---------------------------------------------
n7 = len(d.items())
submit(mail("bob@client.com", "RIB client", "IBAN %s" % vgfix.spaced(iban)), "--route", "mail-prog",
       "-f", "alice@exemple.fr", "bob@client.com")
check(wait_for(lambda: len(d.items()) == n7 + 1), "a flagged mail on the program route is held")
held_ids = [i["id"] for i in d.items() if i.get("route") == "mail-prog" and i.get("state") == "held"]
n8 = len(prog_outputs())
p = d.ctl("delete", held_ids[0] if held_ids else "?", "--reason", "envoi interdit")
check(p.returncode == 0 and wait_for(lambda: any("supprimé" in o["data"] for o in prog_outputs()[n8:])),
      "delete: the sender is told (tell_sender_on_delete = true)")
n9 = len(sink.messages)
submit(mail("bob@client.com", "RIB 2", "IBAN %s" % vgfix.spaced(iban)), "-f", "alice@exemple.fr",
       "bob@client.com")
check(wait_for(lambda: len([i for i in d.items() if i.get("name") == "RIB 2"]) == 1), "held on the first route")
time.sleep(1)
n9 = len(sink.messages)
rid = [i["id"] for i in d.items() if i.get("name") == "RIB 2"]
d.ctl("delete", rid[0] if rid else "?", "--reason", "non")
time.sleep(2)
check(len(sink.messages) == n9, "without tell_sender_on_delete, a delete sends nothing")

# --- a 30 MB mail with attachments: held for the IBAN in its last attachment, released whole ------
msg = EmailMessage()
msg["From"] = "alice@exemple.fr"
msg["To"] = "bob@client.com"
msg["Subject"] = "Export complet"
msg["Message-ID"] = "<export-30mo@exemple.fr>"
msg.set_content("Voici les exports.")
rows = "".join("%06d;commande;%d;2024-03-%02d;%d,%02d EUR\n" % (i, 100000 + i * 7, i % 28 + 1,
                                                              i % 900, i % 100) for i in range(180000))
for k in range(3):
    msg.add_attachment(rows.encode(), maintype="text", subtype="csv", filename="export-%d.csv" % k)
msg.add_attachment((rows[:100000] + "IBAN fournisseur;%s\n" % vgfix.spaced(iban)).encode(),
                   maintype="text", subtype="csv", filename="fournisseurs.csv")
big = msg.as_bytes()
check(len(big) > 30 * 1000 * 1000, "a mail of %.1f MB" % (len(big) / 1e6))
n10 = len(d.items())
t0 = time.time()
p = subprocess.run([sendmail, "-c", d.conf, "-f", "alice@exemple.fr", "bob@client.com"], input=big,
                   capture_output=True)
check(p.returncode == 0, "vigie-sendmail takes it")
check(wait_for(lambda: len(d.items()) == n10 + 1, 120), "the 30 MB mail is held (%.1f s)" % (time.time() - t0))
bid = [i["id"] for i in d.items() if i.get("name") == "Export complet"]
n11 = len(sink.messages)
d.ctl("release", bid[0] if bid else "?", "--reason", "fournisseur connu")
check(wait_for(lambda: len(sink.messages) > n11, 60), "released, it reaches the relay")
got = [m for m in sink.messages[n11:] if b"export-30mo@exemple.fr" in m[2]]
same = got and got[0][2].replace(b"\r\n", b"\n") == big.replace(b"\r\n", b"\n")
if got and not same:
    x, y = got[0][2].replace(b"\r\n", b"\n"), big.replace(b"\r\n", b"\n")
    i = next((k for k in range(min(len(x), len(y))) if x[k] != y[k]), min(len(x), len(y)))
    print("differs at %d of %d/%d: %r vs %r" % (i, len(x), len(y), x[i - 40:i + 40], y[i - 40:i + 40]))
check(same, "byte for byte the mail that was submitted")

# --- malformed MIME: held (unscannable or flagged), never forwarded -----------------------------
n12, n13 = len(d.items()), len(sink.messages)
bad = ("From: alice@exemple.fr\nTo: bob@client.com\nSubject: Mal forme\nMIME-Version: 1.0\n"
       "Content-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain\n\n"
       "Bonjour\n--b1\nContent-Type: multipart/alternative; boundary=\"b2\"\n\n--b2\n"
       "Content-Type: application/zip\nContent-Transfer-Encoding: base64\n\n%s\n!!!@@@###\n"
       "--b1--\n" % base64.b64encode(zip_with("rib.txt", "IBAN %s" % vgfix.spaced(iban))[:-22]).decode())
submit(bad, "-f", "alice@exemple.fr", "bob@client.com")
check(wait_for(lambda: len(d.items()) == n12 + 1), "a malformed mail (truncated zip, broken base64, "
      "unclosed multipart) is held")
mid = [i for i in d.items() if i.get("name") == "Mal forme"]
check(mid and mid[0].get("verdict") in ("unscannable", "flagged"),
      "as %s" % (mid[0].get("verdict") if mid else None))
time.sleep(1)
check(not any(m[1] == ["bob@client.com"] for m in sink.messages[n13:]), "and not forwarded")
d.stop()

# vigie-sendmail failures: usage, read-only spool, full spool -> EX_TEMPFAIL, nothing half-written
p = submit("x", "-f", "a@b")
check(p.returncode == 64, "no recipient: EX_USAGE")
p = submit("x", "-f", "a b@c", "x@y")
check(p.returncode == 65, "bad sender: EX_DATAERR")
ro = os.path.join(tmp, "ro")
os.makedirs(os.path.join(ro, "tmp"))
os.makedirs(os.path.join(ro, "new"))
roconf = os.path.join(tmp, "ro.conf")
with open(roconf, "w") as f:
    f.write('routes = ( { name = "m"; type = "mail"; spool = "%s"; forward = "smtp://127.0.0.1:1"; } );\n' % ro)
subprocess.run(["mount", "--bind", ro, ro], check=True)
subprocess.run(["mount", "-o", "remount,ro,bind", ro], check=True)
try:
    p = submit(mail("b@c.com", "s", "b"), "-f", "a@exemple.fr", "b@c.com", conf=roconf)
    check(p.returncode == 75, "read-only spool: EX_TEMPFAIL (%d)" % p.returncode)
finally:
    subprocess.run(["umount", ro])
check(os.listdir(os.path.join(ro, "new")) == [] and os.listdir(os.path.join(ro, "tmp")) == [],
      "nothing half-written in the read-only spool")
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", ro], check=True)
try:
    os.makedirs(os.path.join(ro, "tmp"))
    os.makedirs(os.path.join(ro, "new"))
    p = submit(mail("b@c.com", "s", "x" * 200000), "-f", "a@exemple.fr", "b@c.com", conf=roconf)
    check(p.returncode == 75, "full spool: EX_TEMPFAIL (%d)" % p.returncode)
    check(os.listdir(os.path.join(ro, "new")) == [] and os.listdir(os.path.join(ro, "tmp")) == [],
          "nothing half-written in the full spool")
finally:
    subprocess.run(["umount", ro])
sink.stop()
finish(tmp)
