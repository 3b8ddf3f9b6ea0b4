"""Mail fixtures shared by the mail tests (test_mime.py) and the hostile-file
generator (hostile.py): a header block, uuencode, and mails built to stress a MIME
parser (deep nesting, 100,000 parts, long header lines, broken base64)."""

import base64
import binascii

HDR = ("From: Jean Dupont <jean.dupont@exemple.fr>\r\nTo: compta@exemple.fr\r\n"
       "Date: Fri, 5 Jan 2024 10:11:12 +0100\r\nMessage-ID: <x1@exemple.fr>\r\n"
       "MIME-Version: 1.0\r\n")


def uu(name, data):
    out = "begin 644 %s\n" % name
    for i in range(0, len(data), 45):
        out += binascii.b2a_uu(data[i:i + 45]).decode()
    return out + "`\nend\n"

def nest_multipart(v):
    parts = [HDR.encode() + b"Subject: nest\r\n"]
    for i in range(200):
        parts.append(b"Content-Type: multipart/mixed; boundary=n%d\r\n\r\n--n%d\r\n" % (i, i))
    parts.append(b"Content-Type: text/plain\r\n\r\nIBAN %s\r\n" % v.encode())
    parts += [b"--n%d--\r\n" % i for i in reversed(range(200))]
    return b"".join(parts)


def nest_message(v):
    parts = []
    for i in range(200):
        parts.append(b"From: a%d@exemple.fr\r\nSubject: fwd %d\r\nContent-Type: message/rfc822\r\n\r\n"
                     % (i, i))
    parts.append(b"From: z@exemple.fr\r\nSubject: fin\r\n\r\nIBAN %s\r\n" % v.encode())
    return b"".join(parts)


def many_parts(v):
    parts = [HDR.encode() + b"Subject: many\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n"]
    parts += [b"--z\r\nContent-Type: text/plain\r\n\r\npiece %d\r\n" % i for i in range(99999)]
    parts.append(b"--z\r\nContent-Type: text/plain\r\n\r\nIBAN %s\r\n--z--\r\n" % v.encode())
    return b"".join(parts)


def long_header(line):
    return HDR.encode() + line + b"\r\nContent-Type: text/plain\r\n\r\nBonjour.\r\n"


def b64_mail(ctype, text, cut):
    enc = base64.encodebytes(text.encode()).decode()
    return (HDR + "Subject: b64\r\nContent-Type: %s\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            % ctype + cut(enc)).encode()
