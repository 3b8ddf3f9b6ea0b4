#!/usr/bin/env python3
"""Writes tests/integration/office/: documents saved by a real office suite
(LibreOffice, headless), with identifiers planted from a fixed seed, and
expected.json (file -> the identifiers that must be found in it).

    apt-get install libreoffice-writer-nogui libreoffice-calc-nogui \\
        libreoffice-impress-nogui
    python3 tests/tools/make_office_fixtures.py

The files are committed, so the tests need no office suite. Flat OpenDocument
sources (.fodt, .fods, .fodp) are written here and converted by soffice to
docx, odt, rtf, html, xlsx, ods, pptx, odp."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vgfix  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "integration", "office")

NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
      'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
      'xmlns:dc="http://purl.org/dc/elements/1.1/" '
      'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
      'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" '
      'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
      'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
      'office:version="1.3"')


def main():
    rng = vgfix.rng(4242)
    ib = [vgfix.french_iban(rng) for _ in range(8)]
    nr = [vgfix.nir(rng) for _ in range(8)]
    sp = vgfix.spaced

    fodt = """<?xml version="1.0" encoding="UTF-8"?>
<office:document %s office:mimetype="application/vnd.oasis.opendocument.text">
<office:meta><dc:title>Dossier %s</dc:title></office:meta>
<office:styles><style:style style:name="Standard" style:family="paragraph"/></office:styles>
<office:automatic-styles>
<style:style style:name="T1" style:family="text"><style:text-properties fo:font-weight="bold"/></style:style>
<style:page-layout style:name="pm1"><style:page-layout-properties fo:page-width="21cm" fo:page-height="29.7cm"/>
<style:header-style/><style:footer-style/></style:page-layout>
</office:automatic-styles>
<office:master-styles><style:master-page style:name="Standard" style:page-layout-name="pm1">
<style:header><text:p>CONFIDENTIEL - RIB %s</text:p></style:header>
<style:footer><text:p>N° sécu %s</text:p></style:footer>
</style:master-page></office:master-styles>
<office:body><office:text>
<text:p>Virement sur %s<text:span text:style-name="T1">%s</text:span>%s avant le 5.</text:p>
<table:table table:name="Tableau1"><table:table-column table:number-columns-repeated="2"/>
<table:table-row><table:table-cell office:value-type="string"><text:p>Nom</text:p></table:table-cell>
<table:table-cell office:value-type="string"><text:p>NIR</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell office:value-type="string"><text:p>Dupont</text:p></table:table-cell>
<table:table-cell office:value-type="string"><text:p>%s</text:p></table:table-cell></table:table-row>
</table:table>
<text:p>Voir la note<text:note text:id="ftn1" text:note-class="footnote"><text:note-citation>1</text:note-citation>
<text:note-body><text:p>Compte %s</text:p></text:note-body></text:note>.</text:p>
<text:p>Relu<office:annotation><dc:creator>Claire</dc:creator><text:p>Vérifier %s</text:p></office:annotation> hier.</text:p>
</office:text></office:body></office:document>
""" % (NS, nr[0], sp(ib[0]), vgfix.nir_spaced(nr[1]), sp(ib[1])[:7], sp(ib[1])[7:17],
       sp(ib[1])[17:], vgfix.nir_spaced(nr[2]), sp(ib[2]), nr[3])

    fods = """<?xml version="1.0" encoding="UTF-8"?>
<office:document %s office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
<office:styles/>
<office:automatic-styles>
<number:number-style style:name="N1"><number:scientific-number number:decimal-places="2" number:min-integer-digits="1" number:min-exponent-digits="2"/></number:number-style>
<style:style style:name="ce1" style:family="table-cell" style:data-style-name="N1"/>
<style:page-layout style:name="pm1"><style:header-style/></style:page-layout>
</office:automatic-styles>
<office:master-styles><style:master-page style:name="Default" style:page-layout-name="pm1">
<style:header><text:p>Paie %s</text:p></style:header></style:master-page></office:master-styles>
<office:body><office:spreadsheet>
<table:table table:name="Salaries">
<table:table-row><table:table-cell office:value-type="string"><text:p>NIR</text:p></table:table-cell>
<table:table-cell table:style-name="ce1" office:value-type="float" office:value="%s"><text:p>x</text:p></table:table-cell>
<table:table-cell office:value-type="float" office:value="%s"><text:p>x</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell office:value-type="string"><text:p>IBAN</text:p></table:table-cell>
<table:table-cell office:value-type="string"><text:p>%s</text:p></table:table-cell></table:table-row>
</table:table>
<table:table table:name="%s"><table:table-row><table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell></table:table-row></table:table>
</office:spreadsheet></office:body></office:document>
""" % (NS, sp(ib[3]), nr[4], nr[5], sp(ib[4]), ib[5])

    fodp = """<?xml version="1.0" encoding="UTF-8"?>
<office:document %s office:mimetype="application/vnd.oasis.opendocument.presentation">
<office:styles/><office:automatic-styles/>
<office:master-styles><style:master-page style:name="Default"/></office:master-styles>
<office:body><office:presentation>
<draw:page draw:name="page1" draw:master-page-name="Default">
<draw:frame svg:x="2cm" svg:y="2cm" svg:width="20cm" svg:height="3cm"><draw:text-box>
<text:p>Coordonnées %s</text:p></draw:text-box></draw:frame>
<presentation:notes><draw:frame svg:x="2cm" svg:y="2cm" svg:width="15cm" svg:height="10cm" presentation:class="notes"><draw:text-box>
<text:p>NIR %s</text:p></draw:text-box></draw:frame></presentation:notes>
</draw:page></office:presentation></office:body></office:document>
""" % (NS, sp(ib[6]), vgfix.nir_spaced(nr[6]))

    writer = [nr[0], ib[0], nr[1], ib[1], nr[2], ib[2], nr[3]]
    calc = [ib[3], nr[4], nr[5], ib[4], ib[5]]
    impress = [ib[6], nr[6]]
    # what each saved file must yield: what the suite keeps in that format
    targets = [
        ("lo.fodt", fodt, [("docx", "MS Word 2007 XML", writer),
                           ("odt", "writer8", writer),
                           ("rtf", "Rich Text Format", writer),
                           ("html", "HTML (StarWriter)", [nr[0], ib[1], nr[2], ib[2], nr[3]])]),
        ("lo.fods", fods, [("xlsx", "Calc MS Excel 2007 XML", calc), ("ods", "calc8", calc)]),
        ("lo.fodp", fodp, [("pptx", "Impress MS PowerPoint 2007 XML", impress),
                           ("odp", "impress8", impress)]),
    ]
    work = tempfile.mkdtemp(prefix="vigie-lo-")
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    try:
        for src, text, outs in targets:
            path = os.path.join(work, src)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            for ext, filt, want in outs:
                subprocess.run(["soffice", "--headless", "-env:UserInstallation=file://%s/profile"
                                % work, "--convert-to", "%s:%s" % (ext, filt), "--outdir", work,
                                path], check=True, capture_output=True)
                app = {"fodt": "writer", "fods": "calc", "fodp": "impress"}[src.split(".")[1]]
                name = "lo-%s.%s" % (app, ext)
                shutil.copy(os.path.join(work, "lo." + ext), os.path.join(OUT, name))
                expected[name] = want
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
