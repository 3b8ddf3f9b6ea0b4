"""Builds the demo set-up under demo/: a config that touches no system path, and
sample files (some clean, some carrying an IBAN or a NIR, one inside a zip, one
inside a tar.gz, one encrypted). The identifiers have correct check digits and
are made up."""

import gzip
import io
import os
import shutil
import sys
import tarfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vgfix  # noqa: E402

root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "demo")
samples = os.path.join(root, "samples")
shutil.rmtree(root, ignore_errors=True)
os.makedirs(samples)
rng = vgfix.rng(42)
iban = vgfix.french_iban(rng)
nir = vgfix.nir(rng)


def put(rel, data):
    p = os.path.join(samples, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


put("compte-rendu-reunion.txt",
    "Réunion du 3 mars : point sur le salon, devis à relancer (réf. FA-2024-0117),\n"
    "commande n° 4411 2233 5566 7788 à livrer lundi.\n")
put("rh/bulletin-paie.txt",
    "Bulletin de paie - mars\nSalarié : Mme Exemple\nN° de sécurité sociale : %s\n" % vgfix.nir_spaced(nir))
put("compta/facture-fournisseur.csv",
    ("fournisseur;montant;iban\nPapeterie du Centre;120,00;%s\n" % vgfix.spaced(iban)).encode("cp1252"))
put("notes-projet.md", "# Projet Horizon\n\nÉtapes : maquette, tests, mise en ligne.\n")

z = io.BytesIO()
with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as f:
    f.writestr("compta/virement.txt", "Merci de virer l'acompte sur %s.\n" % vgfix.spaced(iban))
    f.writestr("lisezmoi.txt", "Pièces du dossier client.\n")
put("dossier-client.zip", z.getvalue())

z = io.BytesIO()
with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as f:
    f.writestr("plaquette.txt", "Nos services : conseil, formation, accompagnement.\n")
put("plaquette.zip", z.getvalue())

t = io.BytesIO()
with tarfile.open(fileobj=t, mode="w:gz") as tf:
    data = ("Liste des salariés\n%s\n" % vgfix.nir_spaced(nir)).encode()
    ti = tarfile.TarInfo("export/salaries.txt")
    ti.size = len(data)
    tf.addfile(ti, io.BytesIO(data))
put("sauvegarde-rh.tar.gz", t.getvalue())
put("archive-tronquee.zip", z.getvalue()[:40])

os.makedirs(os.path.join(root, "partage", "vers-ia"))
# The workers leave root for nobody (or vigie): their spool folder must be
# theirs to write, as /tmp is.
os.makedirs(os.path.join(root, "tmp"))
os.chmod(os.path.join(root, "tmp"), 0o1777)
os.makedirs(os.path.join(root, "ia", "entree"))
with open(os.path.join(root, "vigie.conf"), "w") as f:
    f.write("# demo configuration: everything under this folder\n"
            "store = { dir = \"%s/store\"; };\n"
            "control = { socket = \"%s/control.sock\"; };\n"
            "workers = { tmpdir = \"%s/tmp\"; };\n"
            "routes = ( { name = \"vers-ia\"; type = \"folder\"; mode = \"gate\";\n"
            "  watch = \"%s/partage/vers-ia\"; deliver = \"%s/ia/entree\"; settle = 0.5; } );\n"
            % (root, root, root, root, root))
print("demo set-up written to %s" % root)
