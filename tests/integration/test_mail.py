"""Outgoing mail: vigie-sendmail stores durably or says EX_TEMPFAIL; vigied
forwards clean mail with its envelope, holds flagged mail and tells the sender,
forwards a released mail, keeps mail while the relay is down, bounces a
permanent refusal, applies the strict policy to AI-service domains."""

import os
import subprocess
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
root = os.path.join(tmp, "d")
os.makedirs(root)
d = Daemon(a.build, root, extra="")
# a mail-only configuration
with open(d.conf, "w") as f:
    f.write('store = { dir = "%s"; };\ncontrol = { socket = "%s"; };\n'
            'workers = { count = 2; tmpdir = "%s"; };\nalerts = { mail = { from = "vigie@exemple.fr"; }; };\n'
            % (d.store, d.sock, root) + extra)
sendmail = os.path.join(a.build, "vigie-sendmail")


def submit(body, *args_, conf=None):
    return subprocess.run([sendmail, "-c", conf or d.conf] + list(args_), input=body.encode(),
                          capture_output=True)


def mail(to, subject, body, frm="alice@exemple.fr", extra_headers=""):
    return ("From: Alice <%s>\nTo: %s\nSubject: %s\nMessage-ID: <%s@exemple.fr>\n%s\n%s\n"
            % (frm, to, subject, abs(hash(subject + body)), extra_headers, body))


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
