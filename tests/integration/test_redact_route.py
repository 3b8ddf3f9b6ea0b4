"""A folder route with on_flagged = "redact", end to end with the real daemon:
the original goes to quarantine as before, a redacted copy (name.expurge.ext)
goes to deliver, the employee's notice says what was replaced, the admin sees
both in `vigiectl show`, and releasing the original still works. A file held
for a marking gets no copy; a mail whose values are in a base64 part gets its
text, redacted (courrier.expurge.txt)."""

import base64
import io
import os
import zipfile

from common import args, check, finish, scratch, vgfix
from daemon_harness import Daemon

a = args()
root = scratch("redact-route")
rng = vgfix.rng(4242)
NIR = vgfix.nir(rng)
IBAN = vgfix.french_iban(rng)
VALUES = [NIR, IBAN]


def leaks(text):
    out = []
    for v in VALUES:
        for s in vgfix.spellings(v) | vgfix.digit_runs(v):
            if s in text:
                out.append(s)
    return out


d = Daemon(a.build, root, route_extra='on_flagged = "redact"; notice = true;').start()
try:
    body = ("Contrat de travail de Mme Chloé LEGRAND.\nNIR : %s\nIBAN : %s\nFin du contrat.\n"
            % (vgfix.nir_spaced(NIR), vgfix.spaced(IBAN)))
    with open(os.path.join(d.watch, "contrat.txt"), "w") as f:
        f.write(body)
    doc = io.BytesIO()
    with zipfile.ZipFile(doc, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/content-types"><Default Extension="xml" '
                   'ContentType="application/xml"/><Override PartName="/word/document.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
                   'document.main+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
                   'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                   'officeDocument" Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="http://'
                   'schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>'
                   '<w:t>Paie : </w:t></w:r><w:r><w:t>%s</w:t></w:r><w:r><w:t>%s</w:t></w:r>'
                   '</w:p><w:p><w:r><w:t>Merci.</w:t></w:r></w:p></w:body></w:document>'
                   % (IBAN[:10], IBAN[10:]))
    with open(os.path.join(d.watch, "paie.docx"), "wb") as f:
        f.write(doc.getvalue())
    with open(os.path.join(d.watch, "note.txt"), "w") as f:
        f.write("DIFFUSION RESTREINTE\nPlan de la réorganisation.\n")
    mail = ("From: a@exemple.fr\r\nTo: b@exemple.fr\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            "%s\r\n" % base64.b64encode(body.encode()).decode())
    with open(os.path.join(d.watch, "courrier.eml"), "w") as f:
        f.write(mail)
    check(d.settled(timeout=90), "the route settles")
    delivered = d.delivered()
    check(delivered == ["contrat.expurge.txt", "courrier.expurge.txt", "paie.expurge.docx"],
          "only the redacted copies are delivered: %s" % delivered)
    copy = ""
    if "contrat.expurge.txt" in delivered:
        with open(os.path.join(d.deliver, "contrat.expurge.txt")) as f:
            copy = f.read()
    check(copy == "Contrat de travail de [PERSONNE-1].\nNIR : [NIR-1]\nIBAN : [IBAN-1]\n"
                  "Fin du contrat.\n", "the copy has placeholders and every other word: %r"
          % copy[:200])
    if "paie.expurge.docx" in delivered:
        with zipfile.ZipFile(os.path.join(d.deliver, "paie.expurge.docx")) as z:
            xml = z.read("word/document.xml").decode()
        check("[IBAN-1]" in xml and not leaks(xml) and "Merci." in xml,
              "the docx copy: the IBAN split across runs is replaced")
    items = d.items()
    names = sorted(i.get("name", "") for i in items)
    check(len(items) == 4, "four originals held: %s" % names)
    by_name = {i.get("name"): i for i in items}
    it = by_name.get("contrat.txt")
    shown = d.ctl("show", it["id"]).stdout if it else ""
    check("redacted" in shown and "contrat.expurge.txt" in shown and "[NIR-1]" in shown,
          "vigiectl show tells the admin about the copy")
    check(not leaks(shown), "vigiectl show: nothing unmasked")
    it_mail = by_name.get("courrier.eml")
    shown_mail = d.ctl("show", it_mail["id"]).stdout if it_mail else ""
    check("redacted" in shown_mail and "courrier.expurge.txt" in shown_mail,
          "the mail (a base64 part): its text, redacted, is delivered")
    if "courrier.expurge.txt" in delivered:
        with open(os.path.join(d.deliver, "courrier.expurge.txt")) as f:
            mtext = f.read()
        check("[NIR-1]" in mtext and not leaks(mtext), "the mail's text copy: no value")
    it_note = by_name.get("note.txt")
    shown_note = d.ctl("show", it_note["id"]).stdout if it_note else ""
    check(it_note is not None and "redacted" not in shown_note and
          "redact-refused" not in shown_note and "note.expurge.txt" not in d.delivered(),
          "a file held for a marking gets no copy")
    notice = os.path.join(d.watch, "contrat.txt.vigie-retenu.txt")
    ntext = open(notice).read() if os.path.exists(notice) else ""
    check("copie expurgée" in ntext and "contrat.expurge.txt" in ntext and "[NIR-1]" in ntext,
          "the employee's notice says what was replaced")
    check(not leaks(ntext), "the notice: nothing unmasked")
    log = d.read_log()
    check("event=redacted" in log and not leaks(log), "the journal: event=redacted, masked")
    if it:
        p = d.ctl("release", it["id"], "--reason", "test")
        check(p.returncode == 0 and "contrat.txt" in d.delivered(),
              "the original can still be released (%s)" % p.stderr.strip())
finally:
    d.stop()
finish(root)
