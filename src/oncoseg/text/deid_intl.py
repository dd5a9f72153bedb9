"""Words the de-identifier's rules share across languages: titles, the
labels of name, address, date, phone and record fields, facility and street words, postcodes.

Clinical letters come from many countries; a rule written for ``3rd March`` misses ``7. März``,
``le 14 février``, ``17 de outubro de 2024`` and ``5-IV-2024``, and a field labelled
``Endereço:`` or ``wohnhaft`` holds an address as surely as one labelled ``Address:``. These
pieces are regular-expression fragments (no groups) used by text.deid_rules, text.deid_names
and text.deid_extend; the month and weekday names are in text.deid_months.
"""

from __future__ import annotations

import re

from oncoseg.text.deid_months import (
    MONTH_INTL,
    ROMAN_MONTH,
    WEEKDAY_BEFORE_DATE,
    WEEKDAY_INTL,
)

# titles before a name, in any of these languages (with or without their dot)
TITLES_INTL = (
    r"(?:Sra|Srta|Sr|Dra|Dña|Dona|Dom|Don|Dott\.ssa|Dottssa|Dott|Sig\.ra|Sig\.na|Sig|Mme|Mlle|"
    r"Mnr|Mev|Mevr|Mevrouw|Dhr|Hr|Herrn|Herr|Frau|Fr|Smt|Shri|Sri|Kumari|Pan|Pani|Sheikh|"
    r"Chaplain|Father|Rabbi|Imam|Pastor|Matron|Sister|Mx|Dame|Sir|Lady|Lord|Md|Mohd|Muhd|Mst)"
)
# titles written in lower case in quick notes ("dr baker", "mevr. de wit")
LOWER_TITLES = (
    r"(?:dr|drs|mrs|miss|prof|mevr|mevrouw|dhr|mnr|mme|mlle|sra|srta|dra|herr|frau|sig\.ra|"
    r"dott|dott\.ssa|smt|shri)"
)

# closings before a signature, in these languages
SIGNOFF = (
    r"(?i:yours\s+(?:sincerely|faithfully|truly)|(?:kind|best|warm|warmest)\s+(?:regards|wishes)|"
    r"with\s+(?:best|kind)\s+(?:regards|wishes)|regards|many\s+thanks|thanks|cheers|best|"
    r"sincerely|(?:met\s+)?(?:vriendelijke\s+|collegiale\s+|beste\s+)?groet(?:en)?|groete|"
    r"mit\s+(?:freundlichen|kollegialen|besten)\s+grüßen|mfg|cordialement|bien\s+à\s+(?:toi|vous)|"
    r"bien\s+(?:amicalement|confraternellement)|confraternellement|amitiés|cordiali\s+saluti|"
    r"distinti\s+saluti|saluti|atentamente|un\s+saludo|saludos|atenciosamente|cumprimentos|"
    r"abraços?|z\s+poważaniem|med\s+vänliga\s+hälsningar|vennlig\s+hilsen|venlig\s+hilsen)"
)
# labels whose field holds an address (the rest of the line), a name or a date
ADDRESS_LABEL = (
    r"(?i:(?:home|postal|mailing|residential|patient|current|permanent)\s+address|address|"
    r"addr|residence|endereço|endereco|morada|adres|adresse|anschrift|wohnort|wohnhaft|"
    r"wohnhaft\s+in|wonende|woonachtig|woonadres|woon|indirizzo|residenza|residente\s+in|"
    r"domicilio|domicilié(?:e)?|dirección|direccion|domicile|home\s+community|"
    r"lives\s+at|living\s+at|resides\s+at|village|suburb|hometown|home\s+town)"
)
DATE_LABEL = (
    r"(?i:date|dated|dob|d\.o\.b|born|geb|geboren|geburtsdatum|né|née|nee|nata|nato|"
    r"nacido|nacida|nascido|nascida|data|datum|fecha|consulta|retorno|seduta\s+del|"
    r"verwijzing|admit(?:ted)?|discharge(?:d)?|clinic\s+date|appt|appointment|visit)"
)
PHONE_LABEL = (
    r"(?i:tel|telephone|phone|ph|mob|mobile|cell|cellphone|celular|telefone|telefon|"
    r"telefono|teléfono|téléphone|tél|handy|tlf|fax|pager|contact|callback|call\s+back|"
    r"rückruf|rückfragen|whatsapp|cell\.?|tfn|tlf\.?)"
)
# record and insurance numbers of many countries (the number follows the label)
ID_LABEL_INTL = (
    r"(?:NHC|SIP|CIP|CPF|RG|RGH|SUS|Cartão\s+SUS|PESEL|BSN|RAMQ|OHIP|PHN|URN|UR|UHID|PPSN|"
    r"IPP|NIR|NIP|NISS|AHV|AVS|CF|NSS|DNI|NIE|CURP|RUT|Aadhaar|Medicare|Medicaid|Insurance|"
    r"member\s+ID|Fall-Nr|Pat-ID|Pat\.-Nr|Vers\.-Nr|Versicherungsnummer|Versichertennummer|"
    r"prontuário|prontuario|dossier|dossiê|folder\s+no|Patiëntnummer|patientnummer|"
    r"nr\s+historii|tessera\s+sanitaria|cartella|historia\s+clínica|IP\s+No|CR\s+No|"
    r"OPD\s+No|Reg\.?\s+No|Registration\s+No|Hosp\s+no|hosp\s+no|N°|Nº|nº)"
)

# facility words: before the name (Hospital Clínic, Klinikum rechts der Isar) or after it
FACILITY_FIRST = (
    r"(?:Hospital|Hôpital|Hopital|Hospitalier|Centre(?=[ \t]+(?:de|des|du|d['’]))|Ospedale|"
    r"Policlinico|Policlínica|Policlinica|"
    r"Poliklinik|Klinikum|Klinik|Kliniken|Clínica|Clinica|Clinique|Centro|Centrum|Institut|"
    r"Instituto|Istituto|Instytut|Ziekenhuis|Szpital|Spital|Krankenhaus|Fundación|Fundació|"
    r"Fundação|Azienda|Praxis|Praktijk|Huisartsenpraktijk|Casa\s+di\s+Cura|Santa\s+Casa|"
    r"Universitätsklinikum|Universitätsspital|Universitair|Academisch)"
)
FACILITY_SUFFIX = (
    r"(?:klinikum|klinik|kliniek|krankenhaus|ziekenhuis|spital|praktijk|praxis|sjukhus|sjukhuset|"
    r"sykehus|sykehuset|sygehus|hospitalet|hastanesi)"
)
# foreign facility words after the name (Antonius Ziekenhuis, Hacettepe Hastanesi)
FACILITY_LAST_INTL = (
    r"Ziekenhuis|Klinikum|Klinik|Kliniek|Krankenhaus|Spital|Hôpital|Sjukhus(?:et)?|Sykehus(?:et)?|"
    r"Sygehus|Hastanesi|Ospedale|Clinique|Instituut"
)
# small words that join the parts of a facility's or a place's name
PLACE_JOIN = (
    r"(?:de|del|della|dell['’]|de['’]|d['’]|dei|degli|delle|di|da|do|dos|das|der|des|du|la|le|"
    r"les|los|las|"
    r"el|y|i|e|et|und|and|of|on|upon|am|an|zu|zum|zur|rechts|links|van|von|den|het|op|"
    r"sur|sous|en|in|San|Santa|São|Sant['’]|St\.?|Saint|Sainte)"
)
# department words that make no facility a name ("Oncología Radioterápica", "afdeling")
GENERIC_INTL = frozenset(
    re.findall(
        r"\S+",
        """
    oncologia oncología oncologie onkologie onkologii onkologia oncologica oncológica
    radioterapia radioterápica radioterapica radiotherapie radioonkologie strahlentherapie
    radiothérapie chirurgie cirugía cirugia cirurgia chirurgia ginecologia ginecología
    gynäkologie gynecologie urologia urología urologie medicina medicine médecine medizin
    interna innere interne hematologia hematología hämatologie hématologie servicio serviço
    servizio service unidad unidade unità unite unité abteilung afdeling département
    dipartimento departamento reparto station klinika oddział oddzial poradnia für voor
    universitario universitaria universitário universitária universitaire universitätsklinikum
    general generale geral nacional national nazionale narodowy regional regionale provincial
    provinciale comarcal municipal district hospitalier hospitalar ospedaliera ospedaliero
    """,
    )
)

# street words before the street's name (Rua, Via, ul.) or at the end of one word (-straße)
STREET_FIRST = (
    r"(?:Rua|Rue|rue|Via|Viale|Corso|Piazza|Piazzale|Largo|Vicolo|Calle|Avenida|Avda\.?|"
    r"Av\.|Avinguda|Carrer|Paseo|Passeig|Plaza|Plaça|Praça|Travessa|Alameda|Estrada|Rodovia|"
    r"Camino|Chemin|Boulevard|Bd|Allée|Impasse|Quai|Cours|ul\.|ulica|al\.|aleja|os\.|"
    r"Straße|Strasse|Calle)"
)
STREET_SUFFIX = (
    r"(?:straße|strasse|str\.|gasse|platz|weg|allee|ring|damm|ufer|straat|laan|gracht|plein|"
    r"kade|singel|dijk|steeg|gatan|gata|vägen|vej|gade|veien|gate|vei|tie|katu)"
)
PROVINCES = (
    r"(?:NSW|VIC|QLD|SA|WA|TAS|NT|ACT|BC|AB|SK|MB|ON|QC|NB|NS|PE|NL|YT|NU|RJ|SP|MG|RS|PR|BA|"
    r"SC|PE|CE|DF|GO)"
)
POSTCODES = (
    r"(?:\b(?!T[\dX])[A-Z]\d[A-Z][ \-]\d[A-Z]\d\b"  # Canada H2X 3J4 (not T2N1M0)
    r"|\b[A-Z]\d[\dW][ ]?(?=[A-Z\d]{0,3}\d)(?=[A-Z\d]{0,3}[A-Z])[A-Z\d]{4}\b"  # Eircode
    r"|\b\d{5}-\d{3}\b"  # Brazil CEP 01310-200
    r"|\b\d{2}-\d{3}\b(?=[ \t]+[A-ZÀ-Þ])"  # Poland 00-017 Warszawa
    r"|\b\d{4}-\d{3}\b(?=[ \t]+[A-ZÀ-Þ])"  # Portugal 1000-001 Lisboa
    r"|\b\d{4}[ ]?[A-Z]{2}\b(?=[ \t]+[A-ZÀ-Þ][a-zà-ÿ])"  # Netherlands 1016 GV Amsterdam
    rf"|\b{PROVINCES}[ \t]+\d{{4}}\b"  # Australia NT 0822
    r"|〒\s?\d{3}-\d{4})"
)

Rule = tuple[str, re.Pattern[str], int]
# a capitalised word: O'Neill, Sant'Agata, Women's, HaShomer, Heidelberg-Neuenheim
CAPW = (
    r"[A-ZÀ-ÖØ-Þ](?:[a-zß-öø-ÿ]{1,30}|['’][A-ZÀ-ÖØ-Þ]?[a-zß-öø-ÿ]{1,30})"
    r"(?:[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]{1,30})?(?:['’][A-ZÀ-ÖØ-Þ]?[a-zß-öø-ÿ]{1,30})*"
    r"(?:-[A-Za-zÀ-ÿ][a-zß-öø-ÿ'’]{1,30}){0,3}"
)
_DAY = r"(?:1er|1re|1º|1ª|(?:[12]\d|3[01]|0?[1-9])(?:\.|º|ª|er|e|o)?)"
_JOINS = rf"(?:{PLACE_JOIN}(?:[ \t]+|(?<=['’])))"
# words that open the next field of a header line, never a town's name
_FIELD_WORDS = (
    r"(?:Tel|Telephone|Phone|Ph|Fax|Mob|Mobile|Cell|Email|E-mail|Date|DOB|Hosp|Hospital|MRN|"
    r"NHS|Ref|Patient|Name|Re|Dear|Dr|Mr|Mrs|Ms|Prof)"
)

INTL_DATE_RULES: list[Rule] = [
    (
        "DATE",
        re.compile(
            rf"(?<![\w.])(?:{WEEKDAY_INTL}\.?,?[ \t]+(?:d\.[ \t]*|den[ \t]+)?)?{_DAY}[ \t\-/.]*"
            rf"(?:de[ \t]+)?{MONTH_INTL}\.?"
            rf"(?:[ \t\-/,]+(?:de[ \t]+|del[ \t]+)?(?:\d{{4}}|'\d{{2}})(?!\d))?(?![\w])"
        ),
        0,
    ),  # 7. März 2024, le 14 février, 17 de outubro de 2024, 9 mei 1944
    (
        "DATE",
        re.compile(
            rf"(?<![\w.]){MONTH_INTL}\.?[ \t]+(?:de[ \t]+|del[ \t]+)?(?:\d{{4}}|'\d{{2}})\b"
        ),
        0,
    ),  # avril 2024, março de 2024
    (
        "DATE",
        re.compile(
            rf"(?<![\w.]){_DAY}[\-./ ]{ROMAN_MONTH}[\-./ ](?:\d{{4}}|\d{{2}})(?![\w.]|\.\d)"
        ),
        0,
    ),  # 5-IV-2024
    ("DATE", re.compile(r"\d{4}年\d{1,2}月(?:\d{1,2}日)?|\d{1,2}月\d{1,2}日"), 0),
    ("DATE", re.compile(r"\b[RHS]\d{1,2}[./]\d{1,2}[./]\d{1,2}\b"), 0),  # Japanese era R6.8.21
    (
        "DATE",
        re.compile(
            r"\b(?:vom|am|bis|seit|ab|zum|van|tot|op|du|au|le)[ \t]+"
            r"((?:[12]\d|3[01]|0?[1-9])\.(?:1[0-2]|0?[1-9])\.)(?![\d\w])"
        ),
        1,
    ),  # "vom 24.06. bis": a day and month with their dots, after a word of time
    ("DATE", re.compile(r"(?<=\d{4})[ \t]+r\.(?![\w])"), 0),  # Polish "14.11.2024 r."
    (
        "DATE",
        re.compile(
            rf"(?<![\w.])(?:{WEEKDAY_INTL}|{WEEKDAY_BEFORE_DATE})\.?,?[ \t]+"
            r"(?:den[ \t]+|d\.[ \t]*)?"
            r"(?:[12]\d|3[01]|0?[1-9])(?:[./\-]|\.[ \t])(?:1[0-2]|0?[1-9])"
            r"(?:[./\-][ \t]?(?:19|20)?\d\d(?!\d)|\.?)(?![\w]|[./\-]?\d)"
            r"(?![ \t]*(?:mg|g|Gy|cm|mm|ml|mL|%|mcg|units?|tabl?\w*|cp)\b)"
        ),
        0,
    ),  # a weekday and a day and month: "giovedì 11/4", "fredag 22/3", "čt 18. 4.", "пт 15.3",
    # with its year if it has one ("ke 7.8.2024", "Fim. 13.2.2025")
    (
        "DATE",
        re.compile(
            r"(?<![\w.])(?:[12]\d|3[01]|0?[1-9])\.[ \t](?:1[0-2]|0?[1-9])\.[ \t]?(?:19|20)\d{2}"
            r"(?!\d)"
        ),
        0,
    ),  # Czech, Slovak, Croatian "14. 3. 2024" (also "grade 3. 11. 2023": rare, left)
    (
        "DATE",
        re.compile(
            rf"\b(?:19|20)\d{{2}}\.[ \t]+(?:{MONTH_INTL}\.?[ \t]+(?:[12]\d|3[01]|0?[1-9])\b\.?|"
            rf"gada[ \t]+(?:[12]\d|3[01]|0?[1-9])\.[ \t]*{MONTH_INTL}\b)"
        ),
        0,
    ),  # Hungarian "2024. április 18.", Latvian "2024. gada 18. jūlijs"
    (
        "DATE",
        re.compile(
            r"(?<![\w.])(?:[12]\d|3[01]|0?[1-9])\.?[ \t]+(?:set|out|ago|gen|mag)\.[ \t]+"
            r"(?:19|20)\d{2}\b"
        ),
        0,
    ),  # Portuguese and Italian abbreviations that are English words: "1 set. 2025"
]

INTL_PLACE_RULES: list[Rule] = [
    (
        "ADDRESS",
        re.compile(
            r"\b(?:P\.?[ \t]?O\.?[ \t]*Box|PO[ \t]+Box|Post(?:al)?[ \t]+Box|Postbus|Postfach|"
            r"Apartado(?:[ \t]+de[ \t]+Correos)?|Caixa[ \t]+Postal|Case[ \t]+postale)[ \t]*"
            r"\d[\d\-]*"
        ),
        0,
    ),  # P.O. Box 20723-00202
    (
        "LOCATION",
        re.compile(
            r"\b(?:Royal|St\.?|Saint|Sainte|San|Santa|Sant['’]|São|Sint|Sankt)[ \t]*"
            r"(?!(?:College|Society|Mail|Navy|Air|Family|Marines|Commission|John['’]s[ \t]+wort)\b)"
            r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+(?:['’]s?)?(?:[ \-][A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+(?:['’]s?)?)?"
        ),
        0,
    ),  # Royal Surrey, St Luke's, San Raffaele, Sant'Orsola
    (
        "ADDRESS",
        re.compile(
            rf"(?:\b\d{{1,5}}[A-Za-z]?,?[ \t]+)?(?<!\bet )\b{STREET_FIRST}[ \t]*"
            rf"{_JOINS}*{CAPW}(?:[ \t]+{_JOINS}*{CAPW}){{0,4}}"
            r"(?:,?[ \t]*\d{1,5}[A-Za-z]?(?:[/\-][\dA-Za-z]{1,4})?\b)?"
        ),
        0,
    ),  # Rua Barão de Mesquita 880, Via dell'Indipendenza 12, ul. Marszałkowska 104/12
    (
        "ADDRESS",
        re.compile(
            rf"\b[A-ZÀ-ÖØ-Þ][\wß-ÿ'’\-]*{STREET_SUFFIX}\.?[ \t]+\d{{1,5}}[A-Za-z]?"
            r"(?:[\-/][\dA-Za-z]{1,4})?\b"
        ),
        0,
    ),  # Hauptstraße 41, Prinsengracht 263-II
    ("ADDRESS", re.compile(POSTCODES), 0),
    (
        "ADDRESS",
        re.compile(rf"\b\d{{5}}[ ](?!(?:{MONTH_INTL}|{_FIELD_WORDS})\b){CAPW}(?:[ \-]{CAPW})*"),
        0,
    ),  # 40121 Bologna, 69120 Heidelberg-Neuenheim
    (
        "LOCATION",
        re.compile(rf"\b{FACILITY_FIRST}(?:[ \t]+(?:{_JOINS}*{CAPW}|\d{{1,2}}\b(?![/.:]\d)))+"),
        0,
    ),  # Hospital Clínic de Barcelona, Klinikum rechts der Isar (kept when every word is common)
    (
        "LOCATION",
        re.compile(rf"\b[A-ZÀ-ÖØ-Þ][\wß-ÿ'’\-]*{FACILITY_SUFFIX}\b(?:[ \t]+{_JOINS}*(?:{CAPW}))*"),
        0,
    ),  # Universitätsklinikum Heidelberg, Huisartsenpraktijk Jordaan
]

_UNITS = r"(?:%|mg|g|kg|ml|mmol|gy|cm|mm|mmhg|bpm|units?|iu|/)"
INTL_AGE_RULES: list[Rule] = [
    ("AGE", re.compile(r"\b[MF][ \t/]?(9\d|1[01]\d)\b(?![.,/]\d)"), 1),  # F 97, M/93
    (
        "AGE",
        re.compile(
            r"\b(?:(?i:who|she|he|patient|pt|mother|father|mum|mom|dad|wife|husband)|[A-Z][a-z]{2,})"
            r"[ \t]+(?i:is|was|turned|turns|will\s+be|has\s+turned)[ \t]+"
            rf"(?i:now[ \t]+|nearly[ \t]+|almost[ \t]+|just[ \t]+)?(9\d|1[01]\d)\b"
            rf"(?![.,]\d|[ \t]*(?i:{_UNITS}))"
        ),
        1,
    ),  # "her mother, who is 93", "she is now 91"
    (
        "AGE",
        re.compile(
            r"\b((?i:ninety|one\s+hundred|a\s+hundred)"
            r"(?:[ \t\-]+(?i:and[ \t]+)?(?i:one|two|three|four|five|six|seven|eight|nine))?)"
            r"(?=[ \t\-]+(?i:years?|yrs?|y/?o)\b|[ \t]*[,.;)]|[ \t]+and\b|[ \t]*$)"
        ),
        1,
    ),  # "is ninety and sharp", "ninety-three years old"
    (
        "AGE",
        re.compile(
            r"\b(9\d|1[01]\d)(?=[ \t\-]*(?:ans|Jahre|jährige[rn]?|años|anos|anni|jaar|lat|år|"
            r"vuotta|vuotias|årig[ae]?|årige|jarige|jährig|J\.|yaş\w*|let|ani|éves|ετών|tuổi|"
            r"god\.|godina|godine|tahun|years?(?:[ \t\-]+old)?|yrs?|y/?o|y\.o\.|歳|岁|세|"
            r"год[аy]?|лет|рік|роки|років|ára|ár|metų|gadi|gadus|aastat|vjeç|χρονών)"
            r"(?!\w))"
        ),
        1,
    ),  # 93 ans, 93-jährige, 93-årig, 92 J., 91 год, 90 ára
    (
        "AGE",
        re.compile(
            r"(?:\b(?:Age|AGE|Edad|Alter|Âge|Età|Leeftijd|Ålder|Alder|Wiek|Yaş|Idade|Umur|Usia|"
            r"Ηλικία|Возраст|Вік|Aldur|Věk|Vek|Életkor|Ikä|Vârsta|Vârstă)|גיל|العمر)[ \t]*[:=]?"
            r"[ \t]*(9\d|1[01]\d)\b(?![.,/]\d)"
        ),
        1,
    ),  # a label of age in another language or script: "Edad: 93", "גיל: 93"
    (
        "AGE",
        re.compile(
            r"\b(?i:she|he|who|mum|mom|dad|nan|gran)['’]s[ \t]+(?:now[ \t]+)?(9\d|1[01]\d)\b"
        ),
        1,
    ),  # "she's 95 next week"
]

# a German noun after its article or negation, adjectives between ("keine Aszites", "einer
# Allelratio"): German capitalises nouns, and a name is seldom written after an article. The
# article in lower case, or capitalised at a sentence's start; "der"/"den" not after van/von
# ("van der Berg", "den Boer"); not a relative pronoun after a comma (", die Wagner heißt");
# the words between are adjectives by their endings ("die in Hoogstraten": a Dutch pronoun);
# no contraction ("im benachbarten Reutlingen" is a town)
_ADJ = (
    r"(?!(?:unter|über|hinter|wieder|oder|aber|sowie|wie|die|de|te)\b)[a-zäöüß]+(?:en|em|er|es|e)"
)
_DEFINITE = "der|den|die|das|des|dem"  # also relative pronouns
_INDEFINITE = "eine|einer|eines|einem|einen|kein|keine|keiner|keines|keinem|keinen"
GERMAN_NOUN_BEFORE = re.compile(
    rf"(?:(?<![Vv]an )(?<![Vv]on )(?<!,[ \t])\b(?:{_DEFINITE})|\b(?:{_INDEFINITE})|"
    rf"(?:^|(?<=[.:;!?][ \t]))(?:{f'{_DEFINITE}|{_INDEFINITE}'.title()}))"
    rf"[ \t]+(?:{_ADJ}[ \t]+){{0,2}}$",
    re.M,
)

# words of letters in other languages that a capital does not make a name: salutations,
# labels, closings, relatives, departments (kept by the safe-word layer like English ones)
FOREIGN_WORDS = frozenset(
    re.findall(
        r"\S+",
        """
    Patiente Madame Monsieur Cher Chère Chers Confrère Consœur Collègue Docteur Objet Adresse
    Téléphone Tél Courriel Né Née Pour Avec Sans Compte Rendu Consultation Hospitalisation
    Sortie Entrée Motif Antécédents Examen Conclusion Décision Diagnostic Traitement Bien
    Cordialement Amitiés Confraternellement Salutations Veuillez Nous Elle Merci Médecin
    Traitant Référent Chirurgien Infirmière RCP Sein Poumon Côlon Radiothérapie
    Chimiothérapie Oncologie Hôpital Clinique Institut Unité
    Patientin Herrn Sehr Geehrte Geehrter Liebe Lieber Kollege Kollegin Kollegen Datum
    Anschrift Wohnort Telefon Geb Geboren Diagnose Diagnosen Befund Befunde Therapie
    Empfehlung Procedere Anamnese Verlauf Entlassung Entlassungsbrief Arztbrief Aufnahme
    Epikrise Mit Freundlichen Grüßen Grüße Kollegialen Rückfragen Rückruf Tochter Sohn Ehefrau
    Ehemann Mutter Vater Bruder Schwester Station Zimmer Klinik Klinikum Abteilung Ambulanz
    Sprechstunde Tumorkonferenz Interdisziplinäre Beschluss Protokoll Fall Nr Krankenkasse
    Versicherung Versicherungsnummer Vers Hausarzt Hausärztin Oberarzt Oberärztin
    Assistenzarzt Chefarzt Facharzt Strahlentherapie Radioonkologie Nachsorge Wir Ihre Ihr
    Sie Bitte Vielen Dank Bericht Befundbericht Operation Histologie
    Paciente Señor Señora Estimado Estimada Estimados Doctora Fecha Nombre Domicilio
    Dirección Teléfono Móvil Correo Historia Clínica Diagnóstico Tratamiento Evolución
    Informe Alta Ingreso Consulta Motivo Antecedentes Exploración Juicio Atentamente Saludos
    Cordialmente Saludo Hija Hijo Esposo Esposa Madre Padre Hermano Hermana Servicio
    Oncología Radioterápica Médica Unidad Planta Cama Habitación Gracias
    Doente Utente Senhor Senhora Prezado Prezada Colega Nome Endereço Morada Telefone
    Telemóvel Celular Contato Contacto Processo Prontuário Tratamento Retorno Internamento
    Atenciosamente Cumprimentos Obrigado Obrigada Filha Filho Mãe Pai Irmão Irmã Serviço
    Oncologia Radioterapia Unidade Cartão Mamografia Cirurgia Após Doutor Doutora
    Paziente Gentile Egregio Egregia Collega Dottoressa Signor Signora Cognome Indirizzo
    Residenza Telefono Cellulare Nata Nato Diagnosi Terapia Seduta Referto Dimissione
    Ricovero Visita Cordiali Saluti Distinti Grazie Figlia Figlio Marito Moglie Reparto
    Ospedale Ambulatorio Decisione Infermiera Gastrointestinale Invio
    Patiënt Betreft Geachte Beste Naam Adres Telefoon Mevrouw Meneer Heer Huisarts
    Verwijzing Verwijsbrief Ontslag Ontslagbrief Opname Conclusie Beleid Behandeling Met
    Vriendelijke Groet Groeten Graag Dochter Zoon Echtgenoot Echtgenote Afdeling
    Ziekenhuis Polikliniek Patiëntnummer
    Pacjent Pacjentka Szanowny Szanowna Rozpoznanie Leczenie Wypis Przyjęcie Zalecenia Lekarz
    Fizyk Klinika Oddział Nowotworów Układu Chłonnego Córka Mąż Żona Siostra Poważaniem
    Kära Hej Adress Läkare Lege Sjuksköterska Kontakt Utskrivning Remiss Diagnos Behandling
    Vänliga Hälsningar Vennlig Hilsen Venlig Dotter Datter Hustru
    Kein Keine Keiner Keinen Keinem Keines Eine Einer Eines Einem Einen Een Geen Ingen
    Inget Ett
    Groete Woon PID PV1 MSH OBX ORC OBR ORU NTE EVN
    """,
    )
)
