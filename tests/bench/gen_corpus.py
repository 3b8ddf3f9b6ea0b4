#!/usr/bin/env python3
"""Writes the benchmark corpus of issue 10: about 210 MB of made-up office
material from a fixed seed, and a manifest of what each file carries.

    python3 tests/bench/gen_corpus.py OUT [--seed N] [--scale F]

OUT/corpus/ holds the files, OUT/manifest.json says, for every top-level file,
its kind, size, whether it is plain text, and the detectors planted in it (with
where, down through archive members and mail attachments). The mix (MIX below)
is part of the benchmark: changing it changes every figure, so it is fixed here
and not on the command line; --scale only shrinks it for a quick try.

About 5 % of the files carry something vigie must flag (valid NIR, IBAN, card
numbers, contact lists, private keys, API tokens, passwords, markings, medical
text), with correct check digits computed by tests/tools/vgfix.py. The rest is
clean but full of number-like decoys that a bare pattern matches: IBANs and NIRs
with a wrong key, 16-digit numbers failing Luhn, SIRETs, order and invoice
references, dates, amounts, the documented AWS example key, public keys, the
word "confidentiel" inside a sentence, a newsletter mentioning a pharmacy.

Standard library only, plus tests/tools (vgfix for identifiers, pdfgen for PDF,
make_office_fixtures for the OpenDocument namespaces). Runs in well under a
minute on one core."""

import argparse
import base64
import gzip
import io
import json
import math
import os
import random
import string
import sys
import tarfile
import time
import zipfile
from email.message import EmailMessage
from email import policy as email_policy

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))

import vgfix  # noqa: E402
import pdfgen  # noqa: E402
from make_office_fixtures import NS as ODF_NS  # noqa: E402

SEED = 20261129
ZIP_DATE = (2024, 3, 14, 9, 30, 0)  # fixed member dates: the same seed, the same bytes
TAR_MTIME = 1710408600

# The mix: kind, folder, count, size range in bytes of text (log-uniform).
# Plain-text kinds come first; their total is about 80 MB, the whole about 210 MB.
MIX = [
    ("txt", "texte", 600, (1_000, 250_000)),
    ("txt-cp1252", "texte-ansi", 250, (1_000, 250_000)),
    ("csv", "tableaux", 180, (5_000, 400_000)),
    ("csv-cp1252", "tableaux-ansi", 90, (5_000, 400_000)),
    ("log", "journaux", 40, (50_000, 1_200_000)),
    ("json", "config", 120, (500, 20_000)),
    ("docx", "documents", 260, (3_000, 250_000)),
    ("xlsx", "classeurs", 150, (5_000, 600_000)),
    ("odt", "documents-odf", 110, (3_000, 300_000)),
    ("pdf", "pdf", 300, (5_000, 400_000)),
    ("eml", "mails", 320, (1_000, 30_000)),
    ("zip", "archives", 90, (5, 30)),       # members
    ("tar.gz", "archives-tar", 45, (5, 30)),  # members
    ("bin", "divers", 70, (20_000, 1_500_000)),
]
PLAIN_KINDS = {"txt", "txt-cp1252", "csv", "csv-cp1252", "log", "json"}
SENSITIVE_SHARE = 0.05

# What can be planted where (detector ids as vigie reports them).
CATEGORIES = {
    "iban": ["iban"],
    "nir": ["fr_nir"],
    "card": ["credit_card"],
    "contacts": ["email", "phone_fr"],
    "pem": ["secret_key"],
    "token": ["api_token"],
    "password": ["password"],
    "marking": ["marking"],
    "health": ["health"],
}
KIND_CATEGORIES = {
    "txt": list(CATEGORIES),
    "txt-cp1252": ["iban", "nir", "card", "contacts", "password", "marking", "health"],
    "csv": ["iban", "nir", "card", "contacts"],
    "csv-cp1252": ["iban", "nir", "card", "contacts"],
    "log": ["token", "password", "card", "contacts"],
    "json": ["token", "password", "pem"],
    "docx": ["iban", "nir", "card", "contacts", "marking", "health", "password"],
    "xlsx": ["iban", "nir", "card", "contacts"],
    "odt": ["iban", "nir", "marking", "health", "contacts"],
    "pdf": ["iban", "nir", "card", "marking", "health", "contacts"],
    "eml": list(CATEGORIES),
    "zip": list(CATEGORIES),
    "tar.gz": list(CATEGORIES),
    "bin": ["pem", "token"],
}

# ------------------------------------------------------------------ words

FIRST = ("Jean Marie Claire Paul Sophie Lucas Emma Hugo Chloé Louis Léa Gabriel Manon Arthur "
         "Camille Jules Inès Nathan Julie Thomas Sarah Antoine Laura Maxime Pauline Nicolas "
         "Céline Julien Élodie Pierre Amélie François Hélène Étienne Margaux Rémi Zoé").split()
LAST = ("Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
        "Lefèvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Mercier "
        "Dupont Lambert Bonnet François Martinez Legrand Garnier Faure Rousseau Blanc Guérin "
        "Muller Henry Roussel Nicolas Perrin Morin Mathieu Clément Gauthier Dumont Lopez").split()
CITIES = ("Paris Lyon Marseille Toulouse Nantes Rennes Lille Bordeaux Grenoble Dijon Angers "
          "Tours Nancy Metz Brest Caen Rouen Limoges Poitiers Annecy Quimper Vannes").split()
NOUNS = ("réunion projet client facture commande livraison équipe budget planning devis "
         "contrat fournisseur prestation dossier chantier rapport bilan trimestre exercice "
         "stock inventaire catalogue tarif remise échéance relance règlement acompte "
         "formation recrutement entretien agenda compte-rendu procédure qualité audit "
         "maintenance serveur imprimante sauvegarde messagerie réseau logiciel licence "
         "site vitrine boutique salon partenaire prospect offre proposition cahier "
         "charges jalon livrable recette validation signature avenant local bureau "
         "véhicule déplacement note frais congés astreinte permanence accueil standard "
         "courrier archive classement étiquette palette transporteur entrepôt atelier").split()
VERBS = ("valider envoyer préparer relancer vérifier planifier organiser finaliser "
         "transmettre signer mettre à jour compléter archiver imprimer réserver commander "
         "facturer livrer installer tester corriger présenter discuter arbitrer chiffrer").split()
ADJS = ("prochain dernier nouveau principal urgent annuel mensuel hebdomadaire régional "
        "commercial technique administratif provisoire définitif complet partiel détaillé "
        "prioritaire habituel important simple collectif interne externe").split()
TEMPLATES = [
    "Merci de {v} le {n} {a} avant {d}.",
    "Le {n} {a} a été reporté au {d} à la demande du {n2}.",
    "Nous devons {v} le {n} et le {n2} d'ici la fin du mois.",
    "Point sur le {n} : {k} éléments restent à {v}, le reste est conforme.",
    "{P} propose de {v} le {n} lors de la {n2} de {c}.",
    "La {n} de {c} est prévue le {d}, merci de confirmer votre présence.",
    "Le montant du {n} s'élève à {m} € HT, soit {m2} € TTC.",
    "{P} a transmis le {n} {a} ; il faudra le {v} avec le service {n2}.",
    "Suite à notre échange, je vous confirme que le {n} sera livré le {d}.",
    "En l'absence de {P}, {P2} assure la {n} jusqu'au {d}.",
    "Le taux de {n} atteint {k} % sur le trimestre, contre {k2} % l'an dernier.",
    "Pensez à {v} le {n} {a} dans le dossier partagé.",
    "Pour le {n} de {c}, prévoir {k} personnes et un budget de {m} €.",
    "Le {n} n'a pas pu être {vpp} faute de {n2} ; nouvelle tentative le {d}.",
    "Ordre du jour : {n}, {n2}, questions diverses.",
    "Les chiffres du {n} sont en hausse de {k} % par rapport à {y}.",
    "Rappel : la {n} {a} se tiendra dans la salle {k} à {h}.",
    "Le fournisseur de {c} nous a envoyé un {n} {a} à {v}.",
    "Action : {P} doit {v} le {n} pour le {d}.",
    "Aucune remarque particulière sur le {n}, on peut {v}.",
    "Le stock de {n} est de {k} unités, seuil d'alerte à {k2}.",
    "La version {k}.{k2} du {n} corrige les problèmes signalés en {y}.",
]
VPP = ["validé", "envoyé", "préparé", "livré", "signé", "installé", "testé", "facturé"]

# Decoy paragraphs vigie must not flag (health words in another sense, the
# confidentiality word in prose, a mail disclaimer).
DECOY_PARAGRAPHS = [
    "Newsletter de mars : la pharmacie du centre change d'horaires. Pensez à votre vaccin "
    "contre la grippe ! Notre équipe de football a gagné le tournoi. Bonne lecture à tous.",
    "Le traitement de texte plante quand on ouvre le dossier partagé. Le diagnostic réseau "
    "montre une panne du switch. Merci d'être patient, le support s'en occupe.",
    "Diagnostic de performance énergétique : classe D. Diagnostic amiante négatif. Le "
    "traitement des eaux usées est collectif.",
    "Ce compte rendu n'a rien de confidentiel : vous pouvez le transmettre à toute l'équipe.",
    "Ce message et ses pièces jointes sont confidentiels et établis à l'attention exclusive "
    "de leurs destinataires. Si vous l'avez reçu par erreur, merci de le détruire.",
    "Mutuelle d'entreprise : nouvelle grille de remboursement. Consultation chez le médecin, "
    "pharmacie, optique et dentaire.",
    "La politique de mots de passe impose douze caractères ; ne communiquez jamais votre "
    "mot de passe par téléphone.",
]

MEDICAL = [
    "Compte rendu de consultation. Patiente de {age} ans suivie pour un diabète de type 2 et "
    "une HTA. Antécédents : appendicectomie en {y}. Allergie à la pénicilline. Examen clinique "
    "sans particularité. Diagnostic : déséquilibre glycémique modéré (HbA1c à 8,1 %). "
    "Traitement : metformine 1000 mg matin et soir. Posologie à adapter. Ordonnance remise.",
    "Lettre de sortie d'hospitalisation. Motif : insuffisance cardiaque décompensée. "
    "Antécédents : infarctus en {y}, diabète. Examen clinique à l'entrée : œdèmes des membres "
    "inférieurs. Bilan biologique : BNP élevé. Traitement : furosémide 40 mg. Suivi par le "
    "médecin traitant dans 8 jours.",
    "Certificat médical. Je soussigné, docteur {L}, certifie que l'état de santé de M. {L2} "
    "nécessite un arrêt de travail de 10 jours. Diagnostic : lombalgie aiguë. Traitement : "
    "anti-inflammatoires, kinésithérapie. Antécédents : hernie discale.",
    "Dossier médical. Antécédents familiaux : cancer du sein (mère). Antécédents chirurgicaux : "
    "appendicectomie. Allergies : pénicilline, arachide. Traitement en cours : lévothyroxine "
    "75 µg. Pathologie : hypothyroïdie. Prochaine consultation dans trois mois.",
    "Compte rendu opératoire. Patient de {age} ans. Intervention : cholécystectomie sous "
    "cœlioscopie. Anesthésie générale. Antécédents médicaux : hypertension artérielle traitée. "
    "Suites simples, hospitalisation de 48 heures. Traitement de sortie : paracétamol 1 g, "
    "3 comprimés par jour.",
]


def luhn_ok(digits):
    s = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        s += d
    return s % 10 == 0


def luhn_complete(body):
    for last in "0123456789":
        if luhn_ok(body + last):
            return body + last
    raise AssertionError("unreachable")


def group4(s):
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4))


def xesc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ------------------------------------------------------------------ text

class Gen:
    """All the randomness of one corpus: one seeded generator, used in a fixed order."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        r = self.rng
        self.pool = [self._sentence() for _ in range(6000)]
        self.people = ["%s %s" % (r.choice(FIRST), r.choice(LAST)) for _ in range(400)]

    # -- prose
    def _date(self):
        r = self.rng
        return "%02d/%02d/%d" % (r.randint(1, 28), r.randint(1, 12), r.randint(2019, 2025))

    def _amount(self):
        v = self.rng.randint(100, 9_999_999)
        euros = "{:,}".format(v // 100).replace(",", " ")
        return "%s,%02d" % (euros, v % 100)

    def _sentence(self):
        r = self.rng
        t = r.choice(TEMPLATES)
        return t.format(
            v=r.choice(VERBS), n=r.choice(NOUNS), n2=r.choice(NOUNS), a=r.choice(ADJS),
            d=r.choice([self._date(), "lundi", "mardi prochain", "la fin de la semaine",
                        "vendredi", "le %d %s" % (r.randint(1, 28), r.choice(
                            ["janvier", "février", "mars", "avril", "mai", "juin", "septembre",
                             "octobre", "novembre", "décembre"]))]),
            P="%s %s" % (r.choice(FIRST), r.choice(LAST)),
            P2="%s %s" % (r.choice(FIRST), r.choice(LAST)),
            c=r.choice(CITIES), k=r.randint(2, 95), k2=r.randint(2, 95),
            m=self._amount(), m2=self._amount(), y=r.randint(2015, 2024),
            h="%dh%02d" % (r.randint(8, 18), r.choice([0, 15, 30, 45])), vpp=r.choice(VPP))

    def paragraph(self):
        return " ".join(self.rng.choices(self.pool, k=self.rng.randint(2, 7)))

    # -- decoys: shaped like identifiers, none valid
    def bad_iban(self):
        iban = vgfix.french_iban(self.rng)
        check = int(iban[2:4])
        wrong = "%02d" % ((check + self.rng.randint(1, 90)) % 97 + 2)
        bad = iban[:2] + wrong + iban[4:]
        return bad if not vgfix.iban_valid(bad) else bad[:-1] + str((int(bad[-1]) + 1) % 10)

    def bad_nir(self):
        n = vgfix.nir(self.rng)
        key = (int(n[13:]) + self.rng.randint(1, 50)) % 97 + 1
        if key == int(n[13:]):
            key = key % 97 + 1
        return vgfix.nir_spaced(n[:13] + "%02d" % key)

    def bad_card(self):
        body = self.rng.choice("45") + "".join(self.rng.choices(string.digits, k=15))
        while luhn_ok(body):
            body = body[:-1] + str((int(body[-1]) + 1) % 10)
        return group4(body)

    def siret(self):
        siren = str(self.rng.randint(4, 9)) + "".join(self.rng.choices(string.digits, k=7))
        siren = luhn_complete(siren)
        nic = "%04d" % self.rng.randint(1, 99)
        siret = luhn_complete(siren + nic)
        return "%s %s %s %s" % (siret[:3], siret[3:6], siret[6:9], siret[9:])

    def decoy_line(self, company):
        r = self.rng
        k = r.randrange(14)
        if k == 0:
            return "IBAN (ancien compte, clôturé) : %s" % vgfix.spaced(self.bad_iban())
        if k == 1:
            return "Dossier n° %s (numéro provisoire)" % self.bad_nir()
        if k == 2:
            return "Carte fidélité %s, points cumulés : %d" % (self.bad_card(), r.randint(0, 9000))
        if k == 3:
            return "%s, SIRET : %s" % (company["name"], company["siret"])
        if k == 4:
            return "Commande n° CMD-%d-%06d du %s : %s € HT" % (
                r.randint(2019, 2025), r.randint(1, 999999), self._date(), self._amount())
        if k == 5:
            return "Facture F%d%05d, échéance %s, réf. client C%07d" % (
                r.randint(2019, 2025), r.randint(1, 99999), self._date(), r.randint(1, 9999999))
        if k == 6:
            return "Contact : %s, %s" % (company["email"], company["phone"])
        if k == 7:
            return "Colis suivi n° %d%d, EAN %s" % (
                r.randint(10**11, 10**12 - 1), r.randint(0, 9),
                "3" + "".join(r.choices(string.digits, k=12)))
        if k == 8:
            return "Virement de %s € reçu le %s, référence VIR-%08d" % (
                self._amount(), self._date(), r.randint(0, 10**8 - 1))
        if k == 9:
            return "Exemple de configuration : aws_access_key_id = AKIAIOSFODNN7EXAMPLE"
        if k == 10:
            return "mot de passe : ******** (voir le coffre-fort)"
        if k == 11:
            return "Ticket #%d ouvert le %s à %02d:%02d, priorité %d" % (
                r.randint(1000, 99999), self._date(), r.randint(0, 23), r.randint(0, 59),
                r.randint(1, 4))
        if k == 12:
            return "Réf. produit %s-%04d, lot %d, quantité %d" % (
                r.choice(["AX", "BT", "KR", "ZP"]), r.randint(0, 9999), r.randint(10**5, 10**6),
                r.randint(1, 500))
        return r.choice(DECOY_PARAGRAPHS)

    def company(self):
        r = self.rng
        name = "%s %s" % (r.choice(["Atelier", "Cabinet", "Société", "Boulangerie", "Garage",
                                     "Agence", "Imprimerie"]), r.choice(LAST))
        slug = name.split()[1].lower().replace("è", "e").replace("é", "e").replace("ç", "c")
        return {"name": name, "siret": self.siret(),
                "email": "contact@%s.fr" % slug,
                "phone": "0%d %02d %02d %02d %02d" % (r.randint(1, 5), r.randint(0, 99),
                                                     r.randint(0, 99), r.randint(0, 99),
                                                     r.randint(0, 99))}

    def prose(self, size, company=None):
        """Paragraphs of about `size` characters, a decoy line every few paragraphs."""
        company = company or self.company()
        out, n = [], 0
        while n < size:
            p = self.paragraph() if self.rng.random() < 0.8 else self.decoy_line(company)
            out.append(p)
            n += len(p) + 2
        return out

    # -- what must be flagged
    def iban(self):
        if self.rng.random() < 0.8:
            return vgfix.french_iban(self.rng)
        bban = "".join(self.rng.choices(string.digits, k=18))
        return vgfix.iban_from_bban("DE", bban)

    def card(self):
        r = self.rng
        prefix = r.choice(["4970", "4532", "5413", "5555", "2223"])
        return group4(luhn_complete(prefix + "".join(r.choices(string.digits, k=11))))

    def person_contact(self, i):
        r = self.rng
        first, last = r.choice(FIRST), r.choice(LAST)
        ascii_ = (first + "." + last).lower()
        for a, b in (("é", "e"), ("è", "e"), ("ë", "e"), ("ï", "i"), ("ç", "c"), ("É", "e")):
            ascii_ = ascii_.replace(a, b)
        return (first, last, "%s%d@%s" % (ascii_, i, r.choice(["gmail.com", "orange.fr",
                                                                "free.fr", "laposte.net"])),
                "06 %02d %02d %02d %02d" % (r.randint(0, 99), r.randint(0, 99), i,
                                            r.randint(0, 99)))

    def pem(self):
        body = base64.b64encode(self.rng.randbytes(900)).decode()
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        return ["-----BEGIN RSA PRIVATE KEY-----"] + lines + ["-----END RSA PRIVATE KEY-----"]

    def token(self):
        r = self.rng
        alnum = string.ascii_letters + string.digits
        k = r.randrange(3)
        if k == 0:
            return "aws_access_key_id = AKIA" + "".join(
                r.choices(string.ascii_uppercase + "234567", k=16))
        if k == 1:
            return "export GITHUB_TOKEN=ghp_" + "".join(r.choices(alnum, k=36))
        return "STRIPE_SECRET=sk_live_" + "".join(r.choices(alnum, k=28))

    def password(self):
        r = self.rng
        word = r.choice(["Soleil", "Marmotte", "Printemps", "Cerise", "Bretagne", "Tigre"])
        return r.choice(["mot de passe : %s%d%s", "password=%s%d%s", "DB_PASSWORD=%s%d%s"]) % (
            word, r.randint(10, 9999), r.choice("!#$%&*"))

    def medical(self):
        r = self.rng
        return [t.format(age=r.randint(20, 90), y=r.randint(1990, 2022), L=r.choice(LAST),
                         L2=r.choice(LAST)) for t in r.sample(MEDICAL, 3)]

    def planted_lines(self, cat):
        """The lines that carry a category, for text-like formats."""
        r = self.rng
        if cat == "iban":
            return ["Merci de verser le solde sur le compte IBAN %s (BIC AGRIFRPP)."
                    % vgfix.spaced(self.iban())]
        if cat == "nir":
            return ["Salarié : %s, n° de sécurité sociale %s"
                    % (r.choice(self.people), vgfix.nir_spaced(vgfix.nir(r)))]
        if cat == "card":
            return ["Paiement par carte %s, expiration %02d/%02d" % (
                self.card(), r.randint(1, 12), r.randint(26, 30))]
        if cat == "contacts":
            rows = [self.person_contact(i) for i in range(12)]
            return ["Liste des participants :"] + ["%s %s - %s - %s" % c for c in rows]
        if cat == "pem":
            return ["Clé du serveur de sauvegarde :"] + self.pem()
        if cat == "token":
            return [self.token()]
        if cat == "password":
            return ["Accès au NAS (compte admin) : " + self.password()]
        if cat == "marking":
            return ["CONFIDENTIEL"]
        if cat == "health":
            return self.medical()
        raise ValueError(cat)


def insert_lines(paragraphs, lines, rng, at_top=False):
    pos = 0 if at_top else rng.randint(0, len(paragraphs))
    return paragraphs[:pos] + lines + paragraphs[pos:]


def text_with(g, size, cats):
    """Prose of about size characters carrying the categories."""
    if "health" in cats:
        size = min(size, 2500)  # a medical letter is short; diluted, it is not one
    paras = g.prose(size)
    for c in cats:
        paras = insert_lines(paras, g.planted_lines(c), g.rng, at_top=(c == "marking"))
    return paras


# ------------------------------------------------------------------ formats

def zinfo(name, stored=False):
    zi = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    zi.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    zi.external_attr = 0o644 << 16
    return zi


def zip_of(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            z.writestr(zinfo(name, stored=(name == "mimetype")), data)
    return buf.getvalue()


CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
S_NS = ('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')
RELS_CT = ('<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
           'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
           '<Default Extension="png" ContentType="image/png"/>')


def docx(paragraphs, title, image=None):
    body = "".join('<w:p><w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>' % xesc(p)
                   for p in paragraphs)
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    ct = (XML_DECL + '<Types xmlns="%s">%s<Override PartName="/word/document.xml" '
          'ContentType="%s"/><Override PartName="/docProps/core.xml" ContentType="application/'
          'vnd.openxmlformats-package.core-properties+xml"/></Types>' % (CT_NS, RELS_CT, main))
    rels = (XML_DECL + '<Relationships xmlns="%s"><Relationship Id="rId1" Type="%s/'
            'officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://'
            'schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
            'Target="docProps/core.xml"/></Relationships>' % (REL_NS, RT))
    core = (XML_DECL + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/'
            '2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            '<dc:title>%s</dc:title><dc:creator>Service administratif</dc:creator>'
            '</cp:coreProperties>' % xesc(title))
    doc_rels = XML_DECL + '<Relationships xmlns="%s">%s</Relationships>' % (
        REL_NS, '<Relationship Id="rId9" Type="%s/image" Target="media/image1.png"/>' % RT
        if image else "")
    members = [("[Content_Types].xml", ct), ("_rels/.rels", rels),
               ("word/document.xml", XML_DECL + '<w:document %s><w:body>%s</w:body></w:document>'
                % (W_NS, body)),
               ("word/_rels/document.xml.rels", doc_rels), ("docProps/core.xml", core)]
    if image:
        members.append(("word/media/image1.png", image))
    return zip_of(members)


def xlsx(rows, sheet_name):
    """rows: lists of cells, str (inline string) or int/float (number)."""
    def cell(ref, v):
        if isinstance(v, str):
            return '<c r="%s" t="inlineStr"><is><t>%s</t></is></c>' % (ref, xesc(v))
        return '<c r="%s"><v>%s</v></c>' % (ref, v)
    cols = string.ascii_uppercase
    data = "".join('<row r="%d">%s</row>' % (i + 1, "".join(
        cell("%s%d" % (cols[j], i + 1), v) for j, v in enumerate(r))) for i, r in enumerate(rows))
    ns = "application/vnd.openxmlformats-officedocument.spreadsheetml."
    ct = (XML_DECL + '<Types xmlns="%s">%s<Override PartName="/xl/workbook.xml" ContentType='
          '"%ssheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
          '"%sworksheet+xml"/></Types>' % (CT_NS, RELS_CT, ns, ns))
    return zip_of([
        ("[Content_Types].xml", ct),
        ("_rels/.rels", XML_DECL + '<Relationships xmlns="%s"><Relationship Id="rId1" Type="%s/'
         'officeDocument" Target="xl/workbook.xml"/></Relationships>' % (REL_NS, RT)),
        ("xl/workbook.xml", XML_DECL + '<workbook %s><sheets><sheet name="%s" sheetId="1" '
         'r:id="rId1"/></sheets></workbook>' % (S_NS, xesc(sheet_name))),
        ("xl/_rels/workbook.xml.rels", XML_DECL + '<Relationships xmlns="%s"><Relationship '
         'Id="rId1" Type="%s/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
         % (REL_NS, RT)),
        ("xl/worksheets/sheet1.xml", XML_DECL + '<worksheet %s><sheetData>%s</sheetData>'
         '</worksheet>' % (S_NS, data)),
    ])


def odt(paragraphs, title):
    mime = "application/vnd.oasis.opendocument.text"
    body = "".join("<text:p>%s</text:p>" % xesc(p) for p in paragraphs)
    content = (XML_DECL + '<office:document-content %s><office:body><office:text>%s'
               '</office:text></office:body></office:document-content>' % (ODF_NS, body))
    meta = (XML_DECL + '<office:document-meta %s><office:meta><dc:title>%s</dc:title>'
            '</office:meta></office:document-meta>' % (ODF_NS, xesc(title)))
    manifest = (XML_DECL + '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:'
                'xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-'
                'path="/" manifest:media-type="%s"/><manifest:file-entry manifest:full-path='
                '"content.xml" manifest:media-type="text/xml"/></manifest:manifest>' % mime)
    return zip_of([("mimetype", mime), ("content.xml", content), ("meta.xml", meta),
                   ("META-INF/manifest.xml", manifest)])


def pdf(paragraphs, title, flate):
    """Lines of about 95 characters, 50 to a page, as a word processor lays them out."""
    lines = []
    for p in paragraphs:
        words, cur = p.split(" "), ""
        for w in words:
            if cur and len(cur) + len(w) + 1 > 95:
                lines.append(cur)
                cur = w
            else:
                cur = cur + " " + w if cur else w
        lines.append(cur)
    # WinAnsi only: anything outside cp1252 would not survive the standard font
    lines = [ln.encode("cp1252", "replace").decode("cp1252") for ln in lines]
    pages = [lines[i:i + 50] for i in range(0, len(lines), 50)] or [[""]]
    return pdfgen.document(pages, flate=flate, info={"Title": title, "Author": "Bureau"})


# ------------------------------------------------------------------ documents

class Corpus:
    def __init__(self, out, seed, scale):
        self.out = out
        self.root = os.path.join(out, "corpus")
        self.g = Gen(seed)
        self.rng = self.g.rng
        self.scale = scale
        self.manifest = []

    def size_in(self, lo_hi):
        lo, hi = lo_hi
        return int(math.exp(self.rng.uniform(math.log(lo), math.log(hi))))

    def title(self):
        return "%s %s %s" % (self.rng.choice(NOUNS).capitalize(), self.rng.choice(ADJS),
                             self.rng.choice(CITIES))

    def fname(self, kind, i, ext):
        stem = "%s-%s-%04d" % (self.rng.choice(NOUNS), self.rng.choice(CITIES).lower(), i)
        return stem.replace("é", "e").replace("è", "e").replace("ê", "e") + "." + ext

    # Each builder returns bytes; cats are the categories to plant in it.
    def b_txt(self, size, cats, cp1252=False):
        text = "\n\n".join(text_with(self.g, size, cats)) + "\n"
        return text.encode("cp1252", "replace") if cp1252 else text.encode("utf-8")

    def b_csv(self, size, cats, cp1252=False):
        g, r = self.g, self.rng
        if "contacts" in cats or "nir" in cats or "iban" in cats:
            head = ["nom", "prenom", "service", "date_entree"]
            if "iban" in cats:
                head.append("iban")
            if "nir" in cats:
                head.append("num_secu")
            if "contacts" in cats:
                head += ["email", "telephone"]
            lines = [";".join(head)]
            for i in range(max(12, min(200, size // 120))):
                first, last, mail, tel = g.person_contact(i)
                row = [last, first, r.choice(NOUNS), g._date()]
                if "iban" in cats:
                    row.append(vgfix.spaced(g.iban()))
                if "nir" in cats:
                    row.append(vgfix.nir(r))
                if "contacts" in cats:
                    row += [mail, tel]
                lines.append(";".join(row))
        else:
            lines = ["date;commande;reference;designation;quantite;prix_unitaire;total;"
                     "siret_client"]
            company = g.company()
            n = 0
            while n < size:
                q = r.randint(1, 400)
                pu = r.randint(50, 90000) / 100
                ln = "%s;CMD-%d-%06d;%s-%04d;%s %s;%d;%.2f;%.2f;%s" % (
                    g._date(), r.randint(2019, 2025), r.randint(1, 999999),
                    r.choice(["AX", "BT", "KR"]), r.randint(0, 9999), r.choice(NOUNS),
                    r.choice(ADJS), q, pu, q * pu,
                    company["siret"].replace(" ", "") if r.random() < 0.1 else "")
                lines.append(ln.replace(".", ","))
                n += len(ln) + 1
            if "card" in cats:
                lines.insert(r.randint(1, len(lines)), "%s;paiement carte %s;;;;;;" % (
                    g._date(), g.card()))
        text = "\n".join(lines) + "\n"
        return text.encode("cp1252", "replace") if cp1252 else text.encode("utf-8")

    def b_log(self, size, cats):
        g, r = self.g, self.rng
        out, n = [], 0
        paths = ["/api/orders/%d", "/api/clients/%d/factures", "/static/img/p%d.png",
                 "/compte/commandes?page=%d", "/panier/ajout/%d"]
        while n < size:
            ts = "2024-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
                r.randint(1, 12), r.randint(1, 28), r.randint(0, 23), r.randint(0, 59),
                r.randint(0, 59), r.randint(0, 999))
            if r.random() < 0.5:
                ln = '10.%d.%d.%d - - [%s] "GET %s HTTP/1.1" %d %d "-" "Mozilla/5.0"' % (
                    r.randint(0, 255), r.randint(0, 255), r.randint(1, 254), ts,
                    r.choice(paths) % r.randint(1, 999999), r.choice([200, 200, 200, 304, 404]),
                    r.randint(200, 90000))
            else:
                ln = "%s %s [worker-%d] order=CMD-2024-%06d status=%s duration_ms=%d " \
                     "request_id=%08x-%04x-4%03x-a%03x-%012x" % (
                         ts, r.choice(["INFO", "INFO", "WARN", "DEBUG"]), r.randint(1, 8),
                         r.randint(1, 999999), r.choice(["paid", "shipped", "pending"]),
                         r.randint(1, 4000), r.getrandbits(32), r.getrandbits(16),
                         r.getrandbits(12), r.getrandbits(12), r.getrandbits(48))
            out.append(ln)
            n += len(ln) + 1
        for c in cats:
            if c == "contacts":
                lines = ["%s INFO newsletter sent to=%s" % (g._date(), g.person_contact(i)[2])
                         for i in range(12)]
                lines += ["%s INFO sms sent to=%s" % (g._date(), g.person_contact(i)[3])
                          for i in range(12)]
            elif c == "card":
                lines = ["2024-03-12T10:00:00Z ERROR payment failed card=%s" % g.card()]
            else:
                lines = ["2024-03-12T10:00:00Z DEBUG config loaded: " + (
                    g.token() if c == "token" else g.password())]
            pos = r.randint(0, len(out))
            out[pos:pos] = lines
        return ("\n".join(out) + "\n").encode()

    def b_json(self, size, cats):
        g, r = self.g, self.rng
        conf = {"service": r.choice(NOUNS), "version": "%d.%d.%d" % (r.randint(1, 9),
                                                                      r.randint(0, 20),
                                                                      r.randint(0, 99)),
                "aws_example": "AKIAIOSFODNN7EXAMPLE", "password": "${DB_PASSWORD}",
                "items": []}
        n = 200
        while n < size:
            item = {"id": r.randint(1, 10**6), "label": r.choice(g.pool),
                    "prix": r.randint(100, 99999) / 100, "date": g._date()}
            conf["items"].append(item)
            n += len(item["label"]) + 70
        if "token" in cats:
            t = g.token().split("=", 1)[1].strip()
            conf["api_key"] = t
        if "password" in cats:
            conf["db"] = {"user": "app", "password": g.password().split("=")[-1].split(": ")[-1]}
        if "pem" in cats:
            conf["private_key"] = "\n".join(g.pem()) + "\n"
        return (json.dumps(conf, ensure_ascii=False, indent=1) + "\n").encode()

    def b_docx(self, size, cats):
        image = self.rng.randbytes(self.rng.randint(20_000, 400_000)) \
            if self.rng.random() < 0.4 else None
        if image:
            image = b"\x89PNG\r\n\x1a\n" + image
        return docx(text_with(self.g, size, cats), self.title(), image)

    def b_xlsx(self, size, cats):
        g, r = self.g, self.rng
        rows = [["Date", "Commande", "Client", "Quantité", "Montant"]]
        n = 0
        while n < size:
            rows.append([g._date(), "CMD-2024-%06d" % r.randint(1, 999999), r.choice(g.people),
                         r.randint(1, 500), r.randint(100, 10**7) / 100])
            n += 60
        extra = []
        if "iban" in cats:
            extra.append(["IBAN fournisseur", vgfix.spaced(g.iban())])
        if "nir" in cats:
            extra.append(["N° sécurité sociale", vgfix.nir(r)])
        if "card" in cats:
            extra.append(["Carte", g.card()])
        if "contacts" in cats:
            extra += [[c[0] + " " + c[1], c[2], c[3]] for c in
                      (g.person_contact(i) for i in range(12))]
        for e in extra:
            rows.insert(r.randint(1, len(rows)), e)
        return xlsx(rows, r.choice(["Ventes", "Feuil1", "Suivi", "Export"]))

    def b_odt(self, size, cats):
        return odt(text_with(self.g, size, cats), self.title())

    def b_pdf(self, size, cats):
        return pdf(text_with(self.g, size, cats), self.title(), flate=self.rng.random() < 0.7)

    def b_bin(self, size, cats):
        """Returns (bytes, extension). A secret goes into a program, a database or a
        raw blob, never into a photo: pictures are typed and passed unread (no OCR)."""
        r = self.rng
        kind = r.randrange(1, 4) if cats else r.randrange(4)
        if kind == 0:  # a photo: typed, not read
            data = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + \
                r.randbytes(size) + b"\xff\xd9"
        elif kind == 1:  # a program, with the strings programs have
            strings = b"\x00".join(s.encode() for s in [
                "GCC: (Debian 12.2.0-14) 12.2.0", "/lib64/ld-linux-x86-64.so.2", "libc.so.6",
                "usage: %s [-v] FILE", "version 2.4.1", "Copyright (c) 2021"])
            data = b"\x7fELF\x02\x01\x01" + bytes(9) + r.randbytes(size // 2) + strings + \
                r.randbytes(size // 2)
        elif kind == 2:
            data = b"SQLite format 3\x00" + r.randbytes(size)
        else:
            data = r.randbytes(size)
        if cats:  # a key or token left inside a binary blob
            secret = "\n".join(self.g.pem()) if "pem" in cats else self.g.token()
            mid = len(data) // 2
            data = data[:mid] + b"\x00" + secret.encode() + b"\x00" + data[mid:]
        return data, ["jpg", "exe", "db", "dat"][kind]

    # members of archives and attachments: a smaller document of any kind
    def member(self, cats, depth, allow_nest=True, size_range=(1_000, 60_000)):
        r = self.rng
        kinds = ["txt", "csv", "docx", "pdf", "xlsx", "odt", "log", "json"]
        if allow_nest and depth < 2:
            kinds.append("zip")
        kind = r.choice(kinds)
        if cats:  # keep the category where that format can carry it
            ok = [k for k in kinds if all(c in KIND_CATEGORIES[k] for c in cats)]
            kind = r.choice(ok or ["txt"])
        size = self.size_in(size_range)
        if kind == "zip":
            data, where = self.b_zip(self.size_in((2, 6)), cats, depth + 1)
            return kind, "zip", data, where
        ext = kind
        data = {"txt": lambda: self.b_txt(size, cats), "csv": lambda: self.b_csv(size, cats),
                "docx": lambda: self.b_docx(size, cats), "pdf": lambda: self.b_pdf(size, cats),
                "xlsx": lambda: self.b_xlsx(size, cats), "odt": lambda: self.b_odt(size, cats),
                "log": lambda: self.b_log(size, cats),
                "json": lambda: self.b_json(size, cats)}[kind]()
        return kind, ext, data, [""] if cats else []

    def b_zip(self, count, cats, depth=0):
        members, where = [], []
        planted_at = self.rng.randrange(count) if cats else -1
        folders = ["", "Compta/", "RH/", "Projets/%s/" % self.rng.choice(CITIES), "Archives/2023/"]
        for i in range(count):
            kind, ext, data, w = self.member(cats if i == planted_at else [], depth)
            name = self.rng.choice(folders) + self.fname(kind, i, ext)
            members.append((name, data))
            where += [name + ("/" + x if x else "") for x in w]
        return zip_of(members), where

    def b_targz(self, count, cats):
        raw = io.BytesIO()
        where = []
        planted_at = self.rng.randrange(count) if cats else -1
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as t:
            for i in range(count):
                kind, ext, data, w = self.member(cats if i == planted_at else [], 0)
                name = "sauvegarde/%s/%s" % (self.rng.choice(["docs", "export", "scans"]),
                                             self.fname(kind, i, ext))
                ti = tarfile.TarInfo(name)
                ti.size, ti.mtime, ti.mode = len(data), TAR_MTIME, 0o644
                ti.uname = ti.gname = "bureau"
                t.addfile(ti, io.BytesIO(data))
                where += [name + ("/" + x if x else "") for x in w]
        out = io.BytesIO()
        with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=6) as gz:
            gz.write(raw.getvalue())
        return out.getvalue(), where

    def b_eml(self, size, cats, n):
        g, r = self.g, self.rng
        m = EmailMessage(policy=email_policy.SMTP)
        sender = r.choice(g.people)
        m["From"] = "%s <%s@exemple.fr>" % (sender, sender.split()[0].lower().replace("é", "e"))
        m["To"] = "compta@fournisseur-%s.fr" % r.choice(CITIES).lower()
        m["Subject"] = "%s %s" % (r.choice(NOUNS).capitalize(), r.choice(ADJS))
        m["Date"] = "Thu, 14 Mar 2024 09:%02d:00 +0100" % r.randint(0, 59)
        m["Message-ID"] = "<bench-%06d@exemple.fr>" % n
        in_body = bool(cats) and r.random() < 0.4
        body_cats = [c for c in cats if c in KIND_CATEGORIES["txt"]] if in_body else []
        m.set_content("Bonjour,\n\n" + "\n\n".join(text_with(g, size, body_cats)) +
                      "\n\nCordialement,\n" + sender + "\n")
        where = ["[body]"] if body_cats else []
        n_att = r.choice([0, 1, 1, 2, 3])
        att_cats = cats if cats and not body_cats else []
        if att_cats and n_att == 0:
            n_att = 1
        planted_at = r.randrange(n_att) if att_cats else -1
        for i in range(n_att):
            kind, ext, data, w = self.member(att_cats if i == planted_at else [], 1,
                                             size_range=(2_000, 200_000))
            name = self.fname(kind, i, ext)
            maintype, subtype = {
                "pdf": ("application", "pdf"), "txt": ("text", "plain"),
                "csv": ("text", "csv"), "zip": ("application", "zip"),
                "json": ("application", "json"), "log": ("text", "plain"),
            }.get(kind, ("application", "octet-stream"))
            if maintype == "text":
                m.add_attachment(data.decode("utf-8"), subtype=subtype, filename=name)
            else:
                m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
            where += [name + ("/" + x if x else "") for x in w]
        # fixed boundaries: the same seed writes the same bytes
        for k, part in enumerate(m.walk()):
            if part.is_multipart():
                part.set_boundary("=_bench_%06d_%d" % (n, k))
        return m.as_bytes(), where

    # ------------------------------------------------------------- the run
    def build(self):
        os.makedirs(self.root, exist_ok=True)
        cat_cycle = 0
        for kind, folder, count, size_range in MIX:
            count = max(1, int(round(count * self.scale)))
            d = os.path.join(self.root, folder)
            os.makedirs(d, exist_ok=True)
            nsens = max(1, int(round(count * SENSITIVE_SHARE)))
            sensitive = set(self.rng.sample(range(count), nsens))
            allowed = KIND_CATEGORIES[kind]
            for i in range(count):
                cats = []
                if i in sensitive:
                    cats = [allowed[cat_cycle % len(allowed)]]
                    cat_cycle += 1
                ext = {"txt-cp1252": "txt", "csv-cp1252": "csv"}.get(kind, kind)
                name = self.fname(kind, i, ext)
                where = [""] if cats else []
                if kind in ("txt", "txt-cp1252"):
                    data = self.b_txt(self.size_in(size_range), cats, kind == "txt-cp1252")
                elif kind in ("csv", "csv-cp1252"):
                    data = self.b_csv(self.size_in(size_range), cats, kind == "csv-cp1252")
                elif kind == "log":
                    data = self.b_log(self.size_in(size_range), cats)
                elif kind == "json":
                    data = self.b_json(self.size_in(size_range), cats)
                elif kind == "docx":
                    data = self.b_docx(self.size_in(size_range), cats)
                elif kind == "xlsx":
                    data = self.b_xlsx(self.size_in(size_range), cats)
                elif kind == "odt":
                    data = self.b_odt(self.size_in(size_range), cats)
                elif kind == "pdf":
                    data = self.b_pdf(self.size_in(size_range), cats)
                elif kind == "eml":
                    data, where = self.b_eml(self.size_in(size_range), cats, i)
                elif kind == "zip":
                    data, where = self.b_zip(self.size_in(size_range), cats)
                elif kind == "tar.gz":
                    data, where = self.b_targz(self.size_in(size_range), cats)
                elif kind == "bin":
                    data, ext = self.b_bin(self.size_in(size_range), cats)
                    name = name[:-3] + ext
                else:
                    raise ValueError(kind)
                rel = os.path.join(folder, name)
                with open(os.path.join(self.root, rel), "wb") as f:
                    f.write(data)
                detectors = sorted({d for c in cats for d in CATEGORIES[c]})
                self.manifest.append({
                    "path": rel, "kind": kind, "size": len(data),
                    "plain_text": kind in PLAIN_KINDS, "categories": cats,
                    "detectors": detectors,
                    "where": [name + ("/" + w if w else "") for w in where]})

    def write_manifest(self):
        total = sum(e["size"] for e in self.manifest)
        plain = sum(e["size"] for e in self.manifest if e["plain_text"])
        doc = {"seed": SEED, "scale": self.scale, "files": len(self.manifest),
               "bytes": total, "plain_text_bytes": plain,
               "sensitive_files": sum(1 for e in self.manifest if e["detectors"]),
               "entries": self.manifest}
        with open(os.path.join(self.out, "manifest.json"), "w") as f:
            json.dump(doc, f, ensure_ascii=False, indent=0)
            f.write("\n")
        return doc


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", help="folder to write corpus/ and manifest.json into")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--scale", type=float, default=1.0,
                   help="shrink the file counts (quick tries only; figures need 1.0)")
    a = p.parse_args()
    t0 = time.monotonic()
    c = Corpus(a.out, a.seed, a.scale)
    c.build()
    doc = c.write_manifest()
    print("corpus: %d files, %.1f MB (%.1f MB plain text), %d sensitive, written in %.1f s"
          % (doc["files"], doc["bytes"] / 1e6, doc["plain_text_bytes"] / 1e6,
             doc["sensitive_files"], time.monotonic() - t0))


if __name__ == "__main__":
    main()
