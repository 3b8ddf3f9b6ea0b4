"""Mail (scanners/extract_mime.c): generated mails, through `vigiectl scan --json`.

Bodies in quoted-printable (an identifier cut by a soft line break), base64 and
Latin-1, RFC 2047 subjects, RFC 2231 file names, attachments and archives inside
them, forwarded messages, uuencode, charsets, the addresses of the headers (routing,
never content), TNEF, and the hostile cases (nesting, 100,000 parts, a 10 MB
header line, broken base64), each timed. Every identifier is made here with its
check digits, and every output is searched for them."""

import base64
import email.message
import email.policy
import io
import json
import os
import quopri
import subprocess
import sys
import time
import zipfile

from common import args, check, finish, no_leak, scratch, vgfix
from mailfix import HDR, b64_mail, long_header, many_parts, nest_message, nest_multipart, uu

a = args()
tmp = scratch("mime")
rng = vgfix.rng(31)
VIGIECTL = os.path.join(a.build, "vigiectl")


def sanitized(build):
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            return "VIGIE_SANITIZE:BOOL=ON" in f.read()
    except OSError:
        return False


# Each hostile mail is done in a few seconds (1 to 3 on an idle 2-core machine);
# the bound leaves room for a loaded machine, and ASan and UBSan slow the
# parsers down several times.
TIME_LIMIT = 60.0 if sanitized(a.build) else 10.0

IDS = []  # every identifier planted, for the leak checks


def iban():
    v = vgfix.french_iban(rng)
    IDS.append(v)
    return v


def nir():
    v = vgfix.nir(rng)
    IDS.append(v)
    return v


def write(name, data):
    path = os.path.join(tmp, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    return path


# vigiectl is started from a small interpreter: a process forked from this test
# would carry the test's own resident memory into its peak (Linux keeps the
# high-water mark across exec).
SPAWN = ("import os, sys\n"
         "pid = os.fork()\n"
         "if pid == 0:\n"
         "    os.execv(sys.argv[2], sys.argv[2:])\n"
         "_, st, ru = os.wait4(pid, 0)\n"
         "open(sys.argv[1], 'w').write(str(ru.ru_maxrss))\n"
         "sys.exit(os.waitstatus_to_exitcode(st) & 255)\n")


def scan(path, extra=()):
    """One file: (process, its JSON line or {}, seconds, peak RSS in MiB of vigiectl
    and of the workers it reaped)."""
    rss_file = os.path.join(tmp, ".rss")
    cmd = [sys.executable, "-c", SPAWN, rss_file, VIGIECTL, "scan", "--json"] + list(extra) + [path]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.monotonic() - t0
    p.stdout_text, p.stderr_text = p.stdout, p.stderr
    try:
        with open(rss_file) as f:
            rss = int(f.read()) / 1024
    except (OSError, ValueError):
        rss = -1
    lines = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    return p, (lines[0] if lines else {}), secs, rss


def findings(r, detector=None, where=None):
    return [f for f in r.get("findings", [])
            if (detector is None or f["detector"] == detector) and (where is None or f["where"] == where)]


def reasons(r):
    return {(u["where"], u["reason"]) for u in r.get("unscannable", [])}


ALL_OUTPUT = []


def run_case(name, path, extra=()):
    p, r, secs, rss = scan(path, extra)
    ALL_OUTPUT.append(p.stdout_text + p.stderr_text)
    check(p.returncode in (0, 1) and r, "%s: scanned, no crash (rc=%d)" % (name, p.returncode))
    return r, secs, rss


def mail(subject="Dossier", frm="Jean Dupont <jean.dupont@exemple.fr>", to="compta@exemple.fr"):
    m = email.message.EmailMessage(policy=email.policy.SMTP)
    m["From"] = frm
    m["To"] = to
    m["Subject"] = subject
    m["Message-ID"] = "<20240105101112.4242@exemple.fr>"
    return m



# ---- 1. quoted-printable body, the IBAN cut by a soft line break ----
v = iban()
sp = vgfix.spaced(v)
cut = sp[:17]
body = ("R=C3=A9f=C3=A9rence du virement : " + cut + "=\r\n" + sp[17:] + "\r\nMerci.\r\n")
path = write("qp.eml", HDR + "Subject: Virement\r\nContent-Type: text/plain; charset=utf-8\r\n"
             "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + body)
r, _, _ = run_case("qp", path)
f = findings(r, "iban", "qp.eml")
check(r.get("type") == "message/rfc822", "qp: typed message/rfc822 (libmagic says text/plain)")
check(len(f) == 1 and f[0]["count"] == 1, "qp: the IBAN cut by a soft line break is found in qp.eml")
check(r.get("verdict") == "flagged" and not r.get("unscannable"), "qp: flagged, nothing unscannable")

# ---- 2. base64 text/plain in ISO-8859-1 carrying a NIR ----
n = nir()
text = "Numéro de sécurité sociale de l'employée : %s\nÀ régulariser avant l'été.\n" % vgfix.nir_spaced(n)
b64 = base64.encodebytes(text.encode("latin-1")).decode()
path = write("nir.eml", HDR + "Subject: Dossier RH\r\nContent-Type: text/plain; charset=ISO-8859-1\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n" + b64)
r, _, _ = run_case("nir", path)
check(len(findings(r, "fr_nir", "nir.eml")) == 1, "nir: NIR in a base64 Latin-1 body found in nir.eml")

# ---- 3. RFC 2047 subject with an IBAN, in two encoded words ----
v = iban()
subject = "Virement urgent %s" % vgfix.spaced(v)
half = len(subject) // 2
w1 = base64.b64encode(subject[:half].encode()).decode()
w2 = "".join("=%02X" % c if c in b" =?_" else chr(c) for c in subject[half:].encode())
path = write("subject.eml", HDR + "Subject: =?utf-8?B?%s?=\r\n =?UTF-8?Q?%s?=\r\n"
             "Content-Type: text/plain; charset=us-ascii\r\n\r\nVoir l'objet.\r\n" % (w1, w2))
r, _, _ = run_case("subject", path)
check(len(findings(r, "iban", "subject.eml")) == 1, "subject: IBAN of an RFC 2047 subject found, where = the mail")
subject_leak = any(subject in o or subject.replace(" ", "") in o for o in ALL_OUTPUT)
check(not subject_leak, "subject: the subject never appears unmasked")
p_text = subprocess.run([VIGIECTL, "scan", path], capture_output=True, text=True)
ALL_OUTPUT.append(p_text.stdout + p_text.stderr)
check(subject not in p_text.stdout + p_text.stderr, "subject: not in the readable output either")

# ---- 4. a zip attachment holding the IBAN ----
v = iban()
zbuf = io.BytesIO()
with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("virement.txt", "Virement sur %s\n" % vgfix.spaced(v))
    z.writestr("lisezmoi.txt", "Rien ici.\n")
m = mail()
m.set_content("Bonjour,\nci-joint le dossier.\n")
m.add_attachment(zbuf.getvalue(), maintype="application", subtype="zip", filename="dossier.zip")
path = write("mail.eml", m.as_bytes())
r, _, _ = run_case("zip", path)
f = findings(r, "iban")
check([x["where"] for x in f] == ["mail.eml/dossier.zip/virement.txt"],
      "zip: found at mail.eml/dossier.zip/virement.txt (%s)" % [x["where"] for x in f])

# ---- 5. RFC 2231 file name with accents ----
n = nir()
name = "relevé d'identité été.txt"
enc = "".join(c if c.isalnum() and ord(c) < 128 else "%%%02X" % b for c in name for b in c.encode())
att = base64.encodebytes(("NIR %s\n" % n).encode()).decode()
path = write("rfc2231.eml", HDR + "Subject: piece\r\nContent-Type: multipart/mixed; boundary=\"=_b1\"\r\n\r\n"
             "--=_b1\r\nContent-Type: text/plain\r\n\r\nCi-joint.\r\n"
             "--=_b1\r\nContent-Type: application/octet-stream;\r\n name*=utf-8''%s\r\n"
             "Content-Disposition: attachment;\r\n filename*0*=utf-8''%s;\r\n filename*1*=%s\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n%s--=_b1--\r\n"
             % (enc, enc[:20], enc[20:], att))
r, _, _ = run_case("rfc2231", path)
f = findings(r, "fr_nir")
check([x["where"] for x in f] == ["rfc2231.eml/" + name],
      "rfc2231: continued, encoded file name decoded in where (%s)" % [x["where"] for x in f])

# RFC 2047 in a file name (Outlook's way)
n = nir()
path = write("rfc2047name.eml", HDR + "Subject: piece\r\nContent-Type: multipart/mixed; boundary=b2\r\n\r\n"
             "--b2\r\nContent-Type: text/plain\r\n\r\nCi-joint.\r\n"
             "--b2\r\nContent-Type: application/octet-stream; name=\"=?utf-8?q?fiche_=C3=A9t=C3=A9.txt?=\"\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n%s--b2--\r\n"
             % base64.encodebytes(("NIR %s\n" % n).encode()).decode())
r, _, _ = run_case("rfc2047name", path)
check([x["where"] for x in findings(r, "fr_nir")] == ["rfc2047name.eml/fiche été.txt"],
      "rfc2047 name: decoded in where")

# ---- 6. a forwarded message/rfc822 with its own attachment ----
v = iban()
inner = mail(subject="Piece jointe")
inner.set_content("Voici la piece.\n")
inner.add_attachment(("IBAN %s\n" % vgfix.spaced(v)).encode(), maintype="application",
                     subtype="octet-stream", filename="piece.txt")
outer = mail(subject="Tr: Piece jointe")
outer.set_content("Je te transfere ce message.\n")
outer.add_attachment(inner)
path = write("fwd.eml", outer.as_bytes())
r, _, _ = run_case("fwd", path)
f = findings(r, "iban")
check([x["where"] for x in f] == ["fwd.eml/part-2.eml/piece.txt"],
      "fwd: nested message is a layer: fwd.eml/part-2.eml/piece.txt (%s)" % [x["where"] for x in f])

# the forwarded message named by its file name, and base64-encoded (GMime then
# sees a leaf: it is read as a mail all the same)
v = iban()
inner2 = "From: a <a@exemple.fr>\r\nSubject: RIB\r\n\r\nRIB : %s\r\n" % vgfix.spaced(v)
path = write("fwd64.eml", HDR + "Subject: Tr\r\nContent-Type: multipart/mixed; boundary=b3\r\n\r\n"
             "--b3\r\nContent-Type: text/plain\r\n\r\nVoir.\r\n"
             "--b3\r\nContent-Type: message/rfc822; name=\"RIB.eml\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
             "%s--b3--\r\n" % base64.encodebytes(inner2.encode()).decode())
r, _, _ = run_case("fwd64", path)
check([x["where"] for x in findings(r, "iban")] == ["fwd64.eml/RIB.eml"],
      "fwd64: base64 message/rfc822 read as a mail at fwd64.eml/RIB.eml")


# ---- 7. uuencode: an x-uuencode part, and a block inside a plain text body ----
v = iban()
path = write("uu.eml", HDR + "Subject: uu\r\nContent-Type: multipart/mixed; boundary=b4\r\n\r\n"
             "--b4\r\nContent-Type: text/plain\r\n\r\nCi-joint.\r\n"
             "--b4\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n"
             "%s--b4--\r\n" % uu("releve.txt", ("Compte %s pour le virement de janvier.\n" % vgfix.spaced(v)).encode()))
r, _, _ = run_case("uu", path)
check([x["where"] for x in findings(r, "iban")] == ["uu.eml/releve.txt"],
      "uu: x-uuencode part decoded, named by its begin line")
v = iban()
n = nir()
path = write("uu-inline.eml", HDR + "Subject: uu\r\nContent-Type: text/plain\r\n\r\n"
             "Bonjour, voici le fichier (NIR %s au dossier):\n\n%s\nCordialement.\n"
             % (vgfix.nir_spaced(n), uu("rib.txt", ("RIB %s\n" % v).encode() * 3)))
r, _, _ = run_case("uu-inline", path)
check([x["where"] for x in findings(r, "iban")] == ["uu-inline.eml/rib.txt"],
      "uu-inline: a begin 644 block in the text decoded as uu-inline.eml/rib.txt")
check([x["where"] for x in findings(r, "fr_nir")] == ["uu-inline.eml"],
      "uu-inline: the text around the block is still the mail's text")
check(not r.get("unscannable"), "uu-inline: nothing unscannable")

# ---- 8. the addresses of the headers are routing, not content ----
v = iban()
addrs = ["p%d.nom%d@client%d.fr" % (i, i, i) for i in range(10)]
to = ", ".join(["Service compta <%s@exemple.fr>" % v] + ["<%s>" % x for x in addrs[1:6]])
cc = ", ".join("%s" % x for x in addrs[6:])
m = mail(frm="Equipe <%s>" % addrs[0], to=to)
m["Cc"] = cc
m["Reply-To"] = "%s@exemple.fr" % v
m["X-Original-Sender"] = "%s@exemple.fr" % v
m.set_content("Bonjour a tous, la reunion est deplacee a jeudi.\n")
path = write("headers.eml", m.as_bytes())
r, _, _ = run_case("headers", path)
check(r.get("verdict") == "clean" and not r.get("findings"),
      "headers: 10 addresses in From/To/Cc and an IBAN as an address: clean, no finding (%s)"
      % [x["detector"] for x in r.get("findings", [])])
# the same ten addresses in the body are a contact list
m = mail()
m.set_content("Liste des contacts :\n" + "\n".join(addrs) + "\n")
path = write("contacts.eml", m.as_bytes())
r, _, _ = run_case("contacts", path)
f = findings(r, "email", "contacts.eml")
check(len(f) == 1 and f[0]["distinct"] == 10 and r.get("verdict") == "flagged",
      "contacts: the same 10 addresses in the body are 10 distinct emails, flagged")

# ---- 9. multipart/alternative: both sides; HTML entities; charsets ----
v1, v2 = iban(), iban()
html = ("<html><body><p>Virement&nbsp;: <b>%s</b>&nbsp;%s</p></body></html>"
        % (vgfix.spaced(v2)[:9], vgfix.spaced(v2)[10:].replace(" ", "&nbsp;")))
m = mail()
m.set_content("Virement : %s\n" % vgfix.spaced(v1))
m.add_alternative(html, subtype="html")
path = write("alt.eml", m.as_bytes())
r, _, _ = run_case("alt", path)
f = findings(r, "iban", "alt.eml")
check(len(f) == 1 and f[0]["distinct"] == 2, "alt: both the plain and the HTML side read (2 distinct IBANs)")

charset_cases = [("cp1252.eml", "windows-1252", "8bit"), ("koi8.eml", "koi8-r", "base64"),
                 ("utf16.eml", "utf-16", "base64"), ("latin9.eml", "iso-8859-15", "quoted-printable"),
                 ("unknown-cs.eml", "x-vigie-unknown", "8bit")]
for fname, cs, cte in charset_cases:
    v = iban()
    words = "Привет" if cs == "koi8-r" else "Réglé, 10 €"
    raw = ("%s : IBAN %s\n" % (words, vgfix.spaced(v))).encode(cs if cs != "x-vigie-unknown" else "cp1252")
    if cte == "base64":
        payload = base64.encodebytes(raw)
    elif cte == "quoted-printable":
        payload = quopri.encodestring(raw)
    else:
        payload = raw
    path = write(fname, (HDR + "Subject: cs\r\nContent-Type: text/plain; charset=%s\r\n"
                         "Content-Transfer-Encoding: %s\r\n\r\n" % (cs, cte)).encode() + payload)
    r, _, _ = run_case(fname, path)
    check(len(findings(r, "iban", fname)) == 1, "charset %s (%s): IBAN found" % (cs, cte))

# ---- 10. a mail libmagic calls application/octet-stream (a raw binary part) ----
v = iban()
path = write("binary.eml", (HDR + "Subject: bin\r\nContent-Type: multipart/mixed; boundary=b5\r\n\r\n"
                            "--b5\r\nContent-Type: text/plain\r\n\r\nRIB %s\r\n"
                            "--b5\r\nContent-Type: application/octet-stream; name=data.bin\r\n"
                            "Content-Transfer-Encoding: binary\r\n\r\n" % vgfix.spaced(v)).encode()
           + bytes(range(256)) * 8 + b"\r\n--b5--\r\n")
r, _, _ = run_case("binary", path)
check(r.get("type") == "message/rfc822" and len(findings(r, "iban", "binary.eml")) == 1,
      "binary: a mail with NUL bytes is still read as a mail")

# ---- 11. TNEF, encrypted ----
tnef = b"\x78\x9f\x3e\x22\x01\x00\x01\x06\x90\x08\x00\x04\x00\x00\x00\x00\x00\x01\x00\x01\x00" * 4
m = mail()
m.set_content("Voir winmail.dat\n")
m.add_attachment(tnef, maintype="application", subtype="ms-tnef", filename="winmail.dat")
path = write("tnef.eml", m.as_bytes())
r, _, _ = run_case("tnef", path)
check(("tnef.eml/winmail.dat", "unsupported") in reasons(r) and r.get("verdict") == "unscannable",
      "tnef: winmail.dat unscannable (unsupported), the mail held")
path = write("winmail.dat", tnef)
r, _, _ = run_case("tnef-file", path)
check(("winmail.dat", "unsupported") in reasons(r), "tnef: a TNEF file alone is unsupported too")
path = write("pgp.eml", HDR + "Subject: x\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b6\r\n\r\n"
             "--b6\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
             "--b6\r\nContent-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\nhQEMA\r\n-----END PGP MESSAGE-----\r\n--b6--\r\n")
r, _, _ = run_case("pgp", path)
check(any(x[1] == "encrypted" for x in reasons(r)) and r.get("verdict") == "unscannable",
      "pgp: multipart/encrypted is unscannable (encrypted)")

# ---- 12. mixed line ends: GMime 3.2 drops the byte before a bare "\n" that ends a
# part whose boundary line ends with "\r\n"; the extractor gives it back ----
v = iban()
path = write("mixed-eol.eml", HDR + "Subject: x\r\nContent-Type: multipart/mixed; boundary=b7\r\n\r\n"
             "--b7\r\nContent-Type: text/plain\r\n\r\nRIB : %s\n--b7--\r\n" % v)
r, _, _ = run_case("mixed-eol", path)
check(len(findings(r, "iban", "mixed-eol.eml")) == 1, "mixed-eol: the last digit of the part is kept")

# ---- 13. hard negatives ----
good = vgfix.french_iban(rng)
bad = good[:2] + "%02d" % ((int(good[2:4]) + 1) % 100) + good[4:]
assert not vgfix.iban_valid(bad)
m = mail(subject="Ancien compte")
m.set_content("Ancien compte %s (clos), commande 4521-8890-1123, le 12/03/2024.\n" % vgfix.spaced(bad))
path = write("negative.eml", m.as_bytes())
r, _, _ = run_case("negative", path)
check(r.get("verdict") == "clean" and not r.get("findings") and not r.get("unscannable"),
      "negative: an IBAN with a wrong check in the body: clean")

# ---- 14. hostile mails, each timed ----
print("# hostile mails: size, time (limit %.0f s), peak RSS, verdict, reasons" % TIME_LIMIT)


def hostile(name, make, want_reason=None):
    data = make()
    path = write(name, data)
    size = len(data)
    del data
    r, secs, rss = run_case(name, path)
    rs = sorted({x[1] for x in reasons(r)})
    print("#   %-24s %5.1f MB  %6.2f s  peak %4.0f MiB  %-11s %s"
          % (name, size / 1e6, secs, rss, r.get("verdict"), rs))
    check(r.get("verdict") in ("flagged", "unscannable"), "%s: never clean (%s)" % (name, r.get("verdict")))
    check(secs < TIME_LIMIT, "%s: done in %.2f s" % (name, secs))
    if want_reason:
        check(want_reason in rs, "%s: %s reported" % (name, want_reason))
    return r


v = iban()
hostile("nest-multipart.eml", lambda: nest_multipart(v), "limit:depth")
v = iban()
hostile("nest-message.eml", lambda: nest_message(v), "limit:depth")
v = iban()
hostile("many-parts.eml", lambda: many_parts(v), "limit:members")
v = iban()
hostile("long-header.eml",
        lambda: long_header(b"Subject: " + b"A" * (10 << 20) + b" " + v.encode()))
v2 = iban()
hostile("long-header-words.eml",
        lambda: long_header(b"X-Note: " + b"ab " * ((10 << 20) // 3) + v2.encode()))
v3 = iban()
hostile("long-header-folded.eml",
        lambda: long_header(b"Subject: " + b"\r\n ".join([b"AAAAAAAAAA"] * (1 << 20)) + b" " + v3.encode()))
v7 = iban()
# many header fields of short words, each under 1 MiB: GMime spends some 8 us per
# word, so past 128 Ki words the mail is not handed to it
hostile("many-words.eml",
        lambda: long_header(b"\r\n".join(b"X-Note-%d: " % i + b"ab " * 4000 for i in range(60))
                            + b"\r\nSubject: " + v7.encode()), "limit:time")
v4 = iban()
# one character gone: everything after it is shifted, the IBAN with it
hostile("broken-base64.eml",
        lambda: b64_mail("text/plain", "Lorem ipsum dolor sit amet. " * 40 + "IBAN %s\n" % v4,
                         lambda e: e[:100] + e[101:]), "corrupt")
v5 = iban()
hostile("truncated-base64.eml",
        lambda: b64_mail("application/pdf; name=a.pdf", ("IBAN %s\n" % v5) * 20, lambda e: e[:-3]),
        "corrupt")
v6 = iban()
# a multipart without a boundary: GMime keeps all of it in memory as a prologue;
# 12 MB is read that way, past HELD_MAX (32 MiB) it would be limit:memory
hostile("no-boundary.eml",
        lambda: (HDR + "Subject: x\r\nContent-Type: multipart/mixed\r\n\r\n" + "bla bla\r\n" * 1300000
                 + "IBAN %s\r\n" % v6).encode())

# ---- nothing in any output ----
no_leak("\n".join(ALL_OUTPUT), IDS, "all mail outputs")
finish(tmp)
