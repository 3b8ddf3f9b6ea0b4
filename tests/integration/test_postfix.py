"""Outgoing mail through a real Postfix, on loopback, the way the README sets it up.

A private Postfix instance (its own main.cf, master.cf, queue and ports under a
scratch folder; the machine's own Postfix, if any, is not touched) takes mail on
127.0.0.1:P1 with content_filter = vigie, a pipe(8) transport that runs
vigie-sendmail as the user nobody. vigie-sendmail is copied setgid to the group
vigie-mail, as the package installs it, so nobody can write into the spool but
not list it. vigied forwards clean mail to the re-injection smtpd on
127.0.0.1:P2 (content_filter cleared), and Postfix delivers every domain of the
test into one local Maildir: nothing leaves the machine.

A clean mail reaches the mailbox; a mail whose docx attachment carries an IBAN
is held in vigie's quarantine and is not in the mailbox; `vigiectl release`
delivers it; `vigiectl delete` of another one tells its sender. Postfix is
installed from Debian's packages if missing (with no configuration of its own),
and the instance is stopped and removed at the end."""

import email
import grp
import io
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import time
import zipfile
from email.message import EmailMessage

from common import args, check, finish, no_leak, vgfix
from daemon_harness import Daemon

a = args()
created_group = False
instance = None


def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def give_up(why):
    print("FAIL - %s" % why)
    sys.exit(1)


def ensure_postfix():
    """Debian's postfix, installed with "No configuration": it starts nothing."""
    if shutil.which("postfix") or os.path.exists("/usr/sbin/postfix"):
        return
    print("installing postfix from Debian's packages")
    sh(["sh", "-c", "echo 'postfix postfix/main_mailer_type select No configuration' | "
        "debconf-set-selections"])
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    p = sh(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postfix"], env=env)
    if p.returncode != 0:
        sh(["apt-get", "update", "-qq"], env=env)
        p = sh(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postfix"], env=env)
    if p.returncode != 0:
        give_up("cannot install postfix: %s" % (p.stdout + p.stderr)[-800:])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.2)
    return pred()


ensure_postfix()
# Under /var/tmp, owned by root and 0755: Postfix checks the ownership of its
# queue's parents, and the user nobody must reach the config and the program.
tmp = "/var/tmp/vigie-postfix-%d" % os.getpid()
os.makedirs(tmp, mode=0o755)
os.chmod(tmp, 0o755)
conf_dir = os.path.join(tmp, "postfix")
queue = os.path.join(tmp, "queue")
maildir = os.path.join(tmp, "mail")
spool = os.path.join(tmp, "spool")
for d in (conf_dir, maildir, queue):
    os.makedirs(d)
nobody = 65534
os.chown(maildir, nobody, nobody)
p_in, p_back = free_port(), free_port()

try:
    grp.getgrnam("vigie-mail")
except KeyError:
    p = sh(["groupadd", "--system", "vigie-mail"])
    if p.returncode != 0:
        give_up("groupadd vigie-mail: %s" % p.stderr)
    created_group = True

try:
    # vigie-sendmail as the package installs it: root:vigie-mail 2755.
    bindir = os.path.join(tmp, "bin")
    os.makedirs(bindir)
    sendmail = os.path.join(bindir, "vigie-sendmail")
    shutil.copy(os.path.join(a.build, "vigie-sendmail"), sendmail)
    os.chown(sendmail, 0, grp.getgrnam("vigie-mail").gr_gid)
    os.chmod(sendmail, 0o2755)

    root = os.path.join(tmp, "d")
    os.makedirs(root)
    d = Daemon(a.build, root, extra="")
    with open(d.conf, "w") as f:
        f.write('store = { dir = "%s"; };\ncontrol = { socket = "%s"; };\n'
                'workers = { count = 2; tmpdir = "%s"; };\n'
                'alerts = { mail = { from = "vigie@bureau.test"; }; };\n'
                'routes = ( { name = "mail-sortant"; type = "mail"; spool = "%s";\n'
                '  forward = "smtp://127.0.0.1:%d"; internal_domains = [ "bureau.test" ];\n'
                '  tell_sender_on_delete = true; } );\n'
                % (d.store, d.sock, d.tmpdir, spool, p_back))
    os.chmod(d.conf, 0o644)
    os.chmod(root, 0o755)

    # --- the Postfix instance ------------------------------------------------------------
    main_cf = """compatibility_level = 3.6
queue_directory = {queue}
data_directory = {tmp}/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.bureau.test
mydomain = bureau.test
myorigin = bureau.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
smtputf8_enable = no
biff = no
alias_maps =
alias_database =
local_recipient_maps =
maillog_file = {tmp}/maillog
smtpd_relay_restrictions = permit_mynetworks, reject
virtual_mailbox_domains = bureau.test, client.test, openai.com
virtual_mailbox_base = {maildir}
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{uid}
vigie_destination_recipient_limit = 50
""".format(queue=queue, tmp=tmp, maildir=maildir, uid=nobody)
    master_cf = """127.0.0.1:{p_in} inet n - n - - smtpd
  -o content_filter=vigie:dummy
127.0.0.1:{p_back} inet n - n - - smtpd
  -o content_filter=
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters
  -o smtpd_authorized_xforward_hosts=127.0.0.0/8
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
virtual unix - n n - - virtual
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
vigie unix - n n - 4 pipe
  flags=Rq user=nobody null_sender=
  argv={sendmail} -c {conf} -f ${{sender}} -- ${{recipient}}
""".format(p_in=p_in, p_back=p_back, sendmail=sendmail, conf=d.conf)
    with open(os.path.join(conf_dir, "main.cf"), "w") as f:
        f.write(main_cf)
    with open(os.path.join(conf_dir, "master.cf"), "w") as f:
        f.write(master_cf)
    p = sh(["postfix", "-c", conf_dir, "check"])
    print("postfix check:", (p.stdout + p.stderr).strip()[-400:] or "clean")
    p = sh(["postfix", "-c", conf_dir, "start"])
    if p.returncode != 0:
        give_up("postfix start: %s" % (p.stdout + p.stderr)[-800:])
    instance = conf_dir

    def listening(port):
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return True
        except OSError:
            return False

    check(wait_for(lambda: listening(p_in) and listening(p_back), 30),
          "Postfix listens on 127.0.0.1:%d (content_filter=vigie) and :%d (re-injection)"
          % (p_in, p_back))
    d.start()

    def mailbox():
        """(name, message) of every mail delivered to the test Maildir."""
        out = []
        new = os.path.join(maildir, "box", "new")
        if os.path.isdir(new):
            for n in sorted(os.listdir(new)):
                with open(os.path.join(new, n), "rb") as f:
                    out.append((n, email.message_from_bytes(f.read())))
        return out

    def subjects():
        return [m["Subject"] for _, m in mailbox()]

    def submit(msg, rcpts):
        with smtplib.SMTP("127.0.0.1", p_in, timeout=30) as s:
            s.send_message(msg, from_addr="alice@bureau.test", to_addrs=rcpts)

    def maillog():
        try:
            return open(os.path.join(tmp, "maillog"), errors="replace").read()
        except OSError:
            return ""

    # --- a clean mail reaches the mailbox -------------------------------------------------------
    clean = EmailMessage()
    clean["From"] = "Alice <alice@bureau.test>"
    clean["To"] = "bob@client.test"
    clean["Subject"] = "Devis menuiserie"
    clean["Message-ID"] = "<devis-1@bureau.test>"
    clean.set_content("Bonjour,\nvoici le devis demandé pour la menuiserie.\nAlice\n")
    submit(clean, ["bob@client.test"])
    check(wait_for(lambda: "Devis menuiserie" in subjects()),
          "the clean mail goes through vigie and reaches the mailbox (%s; log: %s)"
          % (subjects(), maillog()[-600:]))
    got = [m for _, m in mailbox() if m["Subject"] == "Devis menuiserie"]
    check(got and got[0]["Message-ID"] == "<devis-1@bureau.test>" and
          "devis demand" in got[0].get_payload(decode=True).decode("utf-8", "replace"),
          "unchanged, with its Message-ID")
    check("relay=vigie" in maillog() and "status=sent" in maillog(),
          "Postfix handed it to the vigie pipe transport first")

    # --- a docx attachment carrying an IBAN is held -----------------------------------------------
    rng = vgfix.rng(61)
    iban = vgfix.french_iban(rng)

    def docx(text):
        b = io.BytesIO()
        w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
        with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("[Content_Types].xml",
                       '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                       'openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
                       'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                       '<Default Extension="xml" ContentType="application/xml"/><Override '
                       'PartName="/word/document.xml" ContentType="application/vnd.openxmlformats'
                       '-officedocument.wordprocessingml.document.main+xml"/></Types>')
            z.writestr("_rels/.rels",
                       '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas'
                       '.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
                       'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                       'officeDocument" Target="word/document.xml"/></Relationships>')
            z.writestr("word/document.xml",
                       '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="%s"><w:body>'
                       '<w:p><w:r><w:t>%s</w:t></w:r></w:p></w:body></w:document>' % (w, text))
        return b.getvalue()

    held = EmailMessage()
    held["From"] = "Alice <alice@bureau.test>"
    held["To"] = "compta@client.test"
    held["Subject"] = "Coordonnees bancaires"
    held["Message-ID"] = "<rib-1@bureau.test>"
    held.set_content("Bonjour,\nvous trouverez nos coordonnées en pièce jointe.\n")
    held.add_attachment(docx("Titulaire : Menuiserie Martin. IBAN : %s" % vgfix.spaced(iban)),
                        maintype="application",
                        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                        filename="rib.docx")
    submit(held, ["compta@client.test"])
    check(wait_for(lambda: len(d.items()) == 1), "the mail with the docx is held in vigie's quarantine")
    items = d.items()
    it = items[0] if items else {}
    show = d.ctl_json("show", it.get("id", "?")) if it else {}
    check(show.get("kind") == "mail" and show.get("mail", {}).get("recipients") == ["compta@client.test"]
          and "iban" in str(show).lower(),
          "show: a mail to compta@client.test, held for an IBAN (%s)" % str(show)[-700:])
    time.sleep(2)
    check("Coordonnees bancaires" not in subjects(), "and it is not in the mailbox")
    check(wait_for(lambda: any("retenu" in (s or "") or "=?utf-8?" in (s or "") for s in subjects()
                               if s != "Devis menuiserie")),
          "the sender (inside the office) gets a notice through Postfix (%s)" % subjects())
    # --- release delivers it ------------------------------------------------------------------------
    p = d.ctl("release", it.get("id", "?"), "--reason", "RIB de l'entreprise, envoi voulu")
    check(p.returncode == 0, "vigiectl release (%s)" % (p.stdout + p.stderr).strip()[:200])
    check(wait_for(lambda: "Coordonnees bancaires" in subjects()),
          "the released mail reaches the mailbox")
    got = [m for _, m in mailbox() if m["Subject"] == "Coordonnees bancaires"]
    att = [part for part in got[0].walk() if part.get_filename() == "rib.docx"] if got else []
    check(att and vgfix.spaced(iban).encode() in zipfile.ZipFile(io.BytesIO(
        att[0].get_payload(decode=True))).read("word/document.xml"),
          "with its attachment intact and its Message-ID %s" % (got[0]["Message-ID"] if got else None))

    # --- delete discards it and tells the sender -------------------------------------------------
    second = EmailMessage()
    second["From"] = "alice@bureau.test"
    second["To"] = "inbox@openai.com"
    second["Subject"] = "Resume du dossier"
    second.set_content("Le RIB du client : %s\n" % vgfix.spaced(vgfix.french_iban(rng)))
    n_before = len(mailbox())
    submit(second, ["inbox@openai.com"])
    check(wait_for(lambda: len(d.items()) == 2), "a mail to an AI service with an IBAN is held")
    time.sleep(1)
    other = [i for i in d.items() if i.get("id") != it.get("id")]
    p = d.ctl("delete", other[0]["id"] if other else "?", "--reason", "ne doit pas partir")
    check(p.returncode == 0, "vigiectl delete of the held mail")
    check(wait_for(lambda: any("supprim" in m.get_payload(decode=True).decode("utf-8", "replace")
                               for _, m in mailbox()[n_before:] if not m.is_multipart())),
          "the sender is told it was deleted")
    time.sleep(1)
    check("Resume du dossier" not in subjects(), "and the deleted mail never reaches the mailbox")

    everything = d.read_log() + maillog() + str(d.items())
    for _, m in mailbox():
        if m["Subject"] != "Coordonnees bancaires":
            everything += m.as_string()
    no_leak(everything, [iban], "vigied log, Postfix log, notices")
    d.stop()
finally:
    if instance:
        sh(["postfix", "-c", instance, "stop"])
        # master exits within seconds; the test's queue goes with the folder
        time.sleep(1)
    if created_group:
        sh(["groupdel", "vigie-mail"])
finish(tmp)
