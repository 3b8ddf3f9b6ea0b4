"""Archive fixtures for vigie's tests that no Debian tool writes the way we need:
zips with hidden, duplicate or overlapping members, RAR 4 and RAR 5 archives
(stored members: a RAR writer is not free software, and these formats are simple
enough to write from their published descriptions), and large compressed
streams written once, quickly, without holding them in memory."""

import io
import struct
import tarfile
import zipfile
import zlib


# --- zip ---------------------------------------------------------------------------

def zip_bytes(members, method=zipfile.ZIP_DEFLATED, **kw):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method, **kw) as z:
        for name, data in members:
            z.writestr(name, data)
    return b.getvalue()


def zip_parts(data):
    """(local part, central directory records, end record) of a simple zip."""
    e = data.rindex(b"PK\x05\x06")
    n = struct.unpack_from("<H", data, e + 10)[0]
    cdoff = struct.unpack_from("<I", data, e + 16)[0]
    recs, p = [], cdoff
    for _ in range(n):
        nl, xl, cl = struct.unpack_from("<HHH", data, p + 28)
        recs.append(data[p:p + 46 + nl + xl + cl])
        p += 46 + nl + xl + cl
    return data[:cdoff], recs, data[e:e + 22]


def zip_assemble(local, recs, comment=b""):
    """A zip from its local part and directory records, with a consistent end."""
    cd = b"".join(recs)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(recs), len(recs), len(cd), len(local),
                      len(comment))
    return local + cd + end + comment


def zip_hide(data, index):
    """The zip with the directory record of member `index` removed: the member is
    still there, found only by its local header."""
    local, recs, _ = zip_parts(data)
    return zip_assemble(local, recs[:index] + recs[index + 1:])


def zip_overlap_full(data, copies):
    """Fifield's non-quoted overlap: every directory record points at the one
    local header of the first member."""
    local, recs, _ = zip_parts(data)
    return zip_assemble(local, [recs[0]] * copies)


def _local_header(name, data, crc=None):
    crc = zlib.crc32(data) if crc is None else crc
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, crc, len(data), len(data),
                       len(name), 0) + name


def _cd_record(name, data, offset):
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, zlib.crc32(data),
                       len(data), len(data), len(name), 0, 0, 0, 0, 0, offset) + name


def zip_overlap_quoted(inner_name, inner_data, reverse=False):
    """Fifield's quoted overlap: a stored member whose data holds the local
    header and data of a second member, which the directory lists too."""
    inner = zip_bytes([(inner_name, inner_data)])
    inner_local, inner_recs, _ = zip_parts(inner)
    name = b"enveloppe.txt"
    lh = _local_header(name, inner_local)
    rec_b = bytearray(inner_recs[0])
    struct.pack_into("<I", rec_b, 42, len(lh))
    recs = [_cd_record(name, inner_local, 0), bytes(rec_b)]
    if reverse:
        recs.reverse()
    return zip_assemble(lh + inner_local, recs)


def zip_rename_local(data, index, new_name):
    """The local header of member `index` carries another name (same length)
    than its directory record."""
    local, recs, _ = zip_parts(data)
    off = struct.unpack_from("<I", recs[index], 42)[0]
    nl = struct.unpack_from("<H", local, off + 26)[0]
    assert len(new_name) == nl
    b = bytearray(local)
    b[off + 30:off + 30 + nl] = new_name
    return zip_assemble(bytes(b), recs)


# --- rar ---------------------------------------------------------------------------
# RAR 4: marker, archive header, one file header per member (method 0x30: stored),
# end of archive. Each header starts with the low 16 bits of the CRC-32 of the
# header from its type byte on.

def rar4(members, encrypted=False):
    out = bytearray(b"Rar!\x1a\x07\x00")

    def block(typ, flags, body, data=b""):
        h = struct.pack("<BHH", typ, flags, 7 + len(body)) + body
        return struct.pack("<H", zlib.crc32(h) & 0xFFFF) + h + data

    out += block(0x73, 0, b"\0" * 6)
    for name, data in members:
        nm = name.encode()
        flags = 0x8000 | (0x0004 if encrypted else 0)  # LONG_BLOCK, PASSWORD
        body = struct.pack("<IIBIIBBHI", len(data), len(data), 2, zlib.crc32(data), 0x5A210000,
                           29, 0x30, len(nm), 0x20) + nm
        out += block(0x74, flags, body, data)
    out += block(0x7B, 0x4000, b"")
    return bytes(out)


# RAR 5: signature, then headers (CRC-32, size, type, flags as variable-length
# integers), a main header, one file header per member (stored), an end header.

def _vint(n):
    b = bytearray()
    while True:
        c, n = n & 0x7F, n >> 7
        b.append(c | (0x80 if n else 0))
        if not n:
            return bytes(b)


def rar5(members, host_os=0):
    out = bytearray(b"Rar!\x1a\x07\x01\x00")

    def header(typ, flags, fields, data_size=None):
        body = _vint(typ) + _vint(flags) + (_vint(data_size) if flags & 2 else b"") + fields
        h = _vint(len(body)) + body
        return struct.pack("<I", zlib.crc32(h)) + h

    out += header(1, 0, _vint(0))
    for name, data in members:
        nm = name.encode()
        # file flags 0x4: CRC-32 present; attributes 0x20; compression 0: stored
        fields = (_vint(0x0004) + _vint(len(data)) + _vint(0x20) + struct.pack("<I", zlib.crc32(data))
                  + _vint(0) + _vint(host_os) + _vint(len(nm)) + nm)
        out += header(2, 0x0002, fields, data_size=len(data)) + data
    out += header(5, 0, _vint(0))
    return bytes(out)


# --- large streams ------------------------------------------------------------------
# A deflate stream can be cut into self-contained pieces with Z_FULL_FLUSH: what
# follows a full flush never refers to what came before. A piece compressed once
# can then be written many times, which writes a gigabyte-sized gzip in seconds.

class GzipWriter:
    def __init__(self, f):
        self.f = f
        self.crc = 0
        self.size = 0
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")

    def piece(self, data):
        co = zlib.compressobj(6, zlib.DEFLATED, -15)
        return co.compress(data) + co.flush(zlib.Z_FULL_FLUSH)

    def write(self, data, times=1, piece=None):
        piece = piece or self.piece(data)
        for _ in range(times):
            self.f.write(piece)
            self.crc = zlib.crc32(data, self.crc)
        self.size += len(data) * times

    def close(self):
        co = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.f.write(co.flush(zlib.Z_FINISH))
        self.f.write(struct.pack("<II", self.crc & 0xFFFFFFFF, self.size & 0xFFFFFFFF))


def tar_header(name, size):
    ti = tarfile.TarInfo(name)
    ti.size = size
    ti.mode = 0o644
    return ti.tobuf(format=tarfile.USTAR_FORMAT)


def pad512(n):
    return b"\0" * ((512 - n % 512) % 512)


ZERO_CHUNK = 64 << 20


def deflated_zeros_zip(name, size, chunk=ZERO_CHUNK):
    """A zip holding `size` bytes of zeros (a multiple of `chunk`), written without
    compressing them all: one full-flushed piece of deflate repeated."""
    zeros = b"\0" * chunk
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = co.compress(zeros) + co.flush(zlib.Z_FULL_FLUSH)
    tailc = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    n = size // chunk
    crc = 0
    for _ in range(n):
        crc = zlib.crc32(zeros, crc)
    data = piece * n + tailc
    nm = name.encode()
    lh = (b"PK\x03\x04" + (20).to_bytes(2, "little") + b"\0\0" + (8).to_bytes(2, "little") + b"\0" * 4
          + crc.to_bytes(4, "little") + len(data).to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little")
          + len(nm).to_bytes(2, "little") + b"\0\0" + nm)
    cd = (b"PK\x01\x02" + (20).to_bytes(2, "little") + (20).to_bytes(2, "little") + b"\0\0"
          + (8).to_bytes(2, "little") + b"\0" * 4 + crc.to_bytes(4, "little") + len(data).to_bytes(4, "little")
          + (size & 0xFFFFFFFF).to_bytes(4, "little") + len(nm).to_bytes(2, "little") + b"\0" * 12
          + (0).to_bytes(4, "little") + nm)
    return zip_assemble(lh + data, [cd])


def tar_of(name, data):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w") as t:
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    return b.getvalue()


def nest_mixed(obj, name, levels):
    """`obj` (named `name`) wrapped `levels` times, turn by turn in a zip, a tar,
    gzip, bzip2 and xz. Returns the outermost bytes and their name."""
    import bz2
    import gzip
    import lzma
    wrappers = [
        lambda d, n: (zip_bytes([(n, d)]), "z.zip"),
        lambda d, n: (tar_of(n, d), "t.tar"),
        lambda d, n: (gzip.compress(d), n + ".gz"),
        lambda d, n: (bz2.compress(d), n + ".bz2"),
        lambda d, n: (lzma.compress(d), n + ".xz"),
    ]
    for i in range(levels):
        obj, name = wrappers[i % len(wrappers)](obj, name)
    return obj, name
