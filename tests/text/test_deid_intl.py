"""Identifiers of many countries and their whole extent (text.deid_intl, text.deid_extend).

Each case is a sentence, the identifiers in it that must lose every letter and digit, and the
clinical words that must survive. The strings are written for these tests (none is taken from
a marked corpus).
"""

from __future__ import annotations

import pytest

from oncoseg.text.deid_extend import extend_spans, place_run
from tests.text.layers import deidentify, find_identifiers


def masked(text: str) -> list[bool]:
    mask = [False] * len(text)
    for r in find_identifiers(text):
        mask[r.start : r.end] = [True] * (r.end - r.start)
    return mask


def assert_removed(text: str, gone: list[str], kept: list[str]) -> None:
    mask = masked(text)
    for ident in gone:
        start = text.index(ident)
        left = [c for i, c in enumerate(ident) if c.isalnum() and not mask[start + i]]
        assert not left, f"{ident!r}: {''.join(left)!r} left in {deidentify(text).text!r}"
    for term in kept:
        start = text.index(term)
        lost = [c for i, c in enumerate(term) if c.isalnum() and mask[start + i]]
        assert not lost, f"{term!r} lost in {deidentify(text).text!r}"


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("Sitzung am 7. März 2024 beschlossen.", ["7. März 2024"], []),
        ("Vu le 14 février 2023 en RCP.", ["14 février 2023"], []),
        ("Retorno 17 de outubro de 2024 com exames.", ["17 de outubro de 2024"], []),
        ("Geb. 9 mei 1951, verwezen.", ["9 mei 1951"], []),
        ("Fecha: 5-IV-2024", ["5-IV-2024"], []),
        ("Tumorkonferenz Mi, 10.07.24 beschlossen", ["Mi, 10.07.24"], []),
        ("Visit 2024年5月14日 done", ["2024年5月14日"], []),
        ("Seen 3rd Feb 24 and Feb '24, review 03.02.2024.", ["3rd Feb 24", "Feb '24"], []),
        ("Kontrol 15 Mart 2024 planlandı.", ["15 Mart 2024"], []),
        ("Operace proběhla 9. 2. 2023 bez komplikací.", ["9. 2. 2023"], []),
        ("Kontrolle am 17.09. in der Ambulanz, Hb 11.2 g/dl.", ["17.09."], ["Hb 11.2 g/dl"]),
        ("Konzilium 2023. március 7. döntött.", ["2023. március 7."], []),
        ("Kontrolle tammikuu 2023, sitten heinäkuu 2023.", ["tammikuu 2023", "heinäkuu 2023"], []),
        ("Pregled 3. listopada 2022. obavljen.", ["3. listopada 2022"], []),
        ("Consulta em 4 set. 2023 marcada.", ["4 set. 2023"], []),
        ("K 3.4. Na 139. Creatinine 1.10.", [], ["K 3.4", "Na 139", "Creatinine 1.10"]),
        ("Hb 12.10. BMI 24.06. Seen at 11.05.", [], ["Hb 12.10", "BMI 24.06", "11.05"]),
        ("Diagnosed in 2019. 3 cycles of FOLFOX, since 2020. 10 mg daily.", [], ["3 cycles"]),
        ("Controllo giovedì 11/4 alle 9, poi TC.", ["11/4"], ["TC"]),
        ("Ny tid fredag 22/3 kl. 10 på mottagningen.", ["22/3"], []),
        ("Kontrola čt 18. 4. v 8:00, CT hrudníku.", ["18. 4"], ["CT hrudníku"]),
        ("Приём пт 15.3 у онколога, затем 28 марта КТ.", ["15.3", "28 марта"], []),
        ("Nächster Termin Mittwoch 3.4., dann Carboplatin AUC 5.", ["3.4"], ["AUC 5"]),
        ("Mittwoch 2.5 mg Dexamethason, st 1.5 mg.", [], ["2.5 mg", "1.5 mg"]),
    ],
)
def test_dates_in_other_languages(text: str, gone: list[str], kept: list[str]) -> None:
    assert_removed(text, gone, kept)


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("Call +44 (0)20 7946 0321 today.", ["+44 (0)20 7946 0321"], []),
        ("Tel: +90 (532) 555 12 34 (mobile)", ["+90 (532) 555 12 34"], []),
        ("Contato: (21) 98765-4321.", ["(21) 98765-4321"], []),
        ("Pager 416.555.0199 x 3 for the fellow", ["416.555.0199 x 3"], []),
        ("ring 0044 161 446 3000 after 5", ["0044 161 446 3000"], []),
    ],
)
def test_phones_with_country_codes_and_extensions(
    text: str, gone: list[str], kept: list[str]
) -> None:
    assert_removed(text, gone, kept)


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("Hosp no RXH 2291034 on file", ["RXH 2291034"], []),
        ("folder no KBH 5512093-B attached", ["KBH 5512093-B"], []),
        ("CPF: 987.654.321-00", ["987.654.321-00"], []),
        ("SIP: VLCA 440231 19", ["VLCA 440231 19"], []),
        ("personnummer 19610515-2381 noted", ["19610515-2381"], []),
        ("Cyprus ID AK 123456 seen", ["AK 123456"], []),
        ("Trial BC2001 and RTOG 0617 arms", [], ["BC2001", "RTOG 0617"]),
    ],
)
def test_record_numbers_whole(text: str, gone: list[str], kept: list[str]) -> None:
    assert_removed(text, gone, kept)


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        (
            "Endereço: Rua das Flores 221, apto 14, Boa Viagem, Recife - PE, 51020-130",
            ["Rua das Flores 221, apto 14, Boa Viagem, Recife - PE, 51020-130"],
            [],
        ),
        (
            "wohnhaft Lindenstraße 12, 79098 Freiburg-Wiehre. Diagnose: Mammakarzinom links.",
            ["Lindenstraße 12, 79098 Freiburg-Wiehre"],
            ["Mammakarzinom"],
        ),
        (
            "Adres: Keizersgracht 12-III, 1015 CJ Amsterdam",
            ["Keizersgracht 12-III, 1015 CJ Amsterdam"],
            [],
        ),
        ("Residenza: Via dell'Orso 3, 20121 Milano", ["Via dell'Orso 3, 20121 Milano"], []),
        ("Adres: ul. Długa 5/7, 80-827 Gdańsk", ["ul. Długa 5/7, 80-827 Gdańsk"], []),
        (
            "Lives at\nMaple Court, 88 King St W, Toronto ON M5V 1J5.",
            ["Maple Court", "M5V 1J5"],
            [],
        ),
        ("Eircode D04 X2Y8 on the form", ["D04 X2Y8"], []),
        ("Post to P.O. Box 4411-00100, Nairobi", ["P.O. Box 4411-00100"], []),
        ("Home community: Yuendumu NT 0872", ["Yuendumu NT 0872"], []),
        ("nata a Sant'Angelo de' Lombardi il 1950", ["Sant'Angelo de' Lombardi"], []),
    ],
)
def test_addresses_of_many_countries(text: str, gone: list[str], kept: list[str]) -> None:
    assert_removed(text, gone, kept)


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        (
            "Beaumont Hospital, Sandyford Road, Dublin 9",
            ["Beaumont Hospital", "Sandyford Road, Dublin 9"],
            [],
        ),
        (
            "Hospital Universitario 9 de Octubre, Valencia",
            ["Hospital Universitario 9 de Octubre, Valencia"],
            [],
        ),
        ("Klinikum rechts der Weser, Bremen", ["Klinikum rechts der Weser, Bremen"], []),
        (
            "Universitätsklinikum Tübingen, Klinik für Radioonkologie",
            ["Universitätsklinikum Tübingen"],
            [],
        ),
        (
            "Regional Cancer Center Hospital West, Osaka",
            ["Regional Cancer Center Hospital West"],
            [],
        ),
        ("surgery at Royal Hobart and Women's next week", ["Royal Hobart and Women's"], []),
        ("UZA Antwerpen, dienst radiotherapie", ["UZA Antwerpen"], []),
        ("missed appointment at UBTH radiotherapy", ["UBTH"], []),
        ("Antonius Ziekenhuis / NKZ outpatients", ["NKZ"], ["outpatients"]),
        ("Phone note - WA Cancer Perth", ["WA Cancer Perth"], []),
        ("ward note  West ward 6C, room 603", ["West ward 6C", "room 603"], []),
        ("DISCHARGE   Pavilion 12 North, bed 9", ["Pavilion 12 North", "bed 9"], []),
        ("Seen at St Bartholomew's, then Royal Oldham.", ["St Bartholomew's", "Royal Oldham"], []),
    ],
)
def test_hospitals_and_wards(text: str, gone: list[str], kept: list[str]) -> None:
    assert_removed(text, gone, kept)


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("Paciente: Sra. Maria das Dores Lima, 67", ["Maria das Dores Lima"], []),
        ("Patient: DUPRÉ, Anne-Sophie   MRN 0092210", ["DUPRÉ, Anne-Sophie"], []),
        ("Dra. Laia Vidal i Serra", ["Laia Vidal i Serra"], []),
        ("mevr. Els van 't Veld, en dhr. van der Meer", ["Els van 't Veld", "van der Meer"], []),
        ("Groet, Sander van der Berg", ["Sander van der Berg"], []),
        ("2. LILY-ANNE HOPKINS  K120933", ["LILY-ANNE HOPKINS"], []),
        ("Name: Kavitha Raman, w/o S. Raman", ["S. Raman"], []),
        ("Dr Suresh s/o Krishnan signed", ["Suresh s/o Krishnan"], []),
        ("Patient: LEUNG Wai-kit, HKID K223311(4)", ["LEUNG Wai-kit"], []),
        ("Patient: HALLORAN, Bridget M", ["HALLORAN, Bridget M"], []),
        ("his GP is dr walker at the surgery", ["walker"], []),
        ("spoke to pt (derek fletcher) about the plan", ["derek fletcher"], []),
        ("Her GP dr. de vries is aware", ["de vries"], []),
        ("The driver took her home; syringe driver running", [], ["driver", "syringe driver"]),
    ],
)
def test_names_whole(text: str, gone: list[str], kept: list[str]) -> None:
    assert_removed(text, gone, kept)


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("Her mother, who is 94, lives alone.", ["94"], []),
        ("Arthur is ninety and still drives.", ["ninety"], []),
        ("Patiente de 96 ans, autonome.", ["96"], []),
        ("Weight is 94 kg, Hb 95 g/L.", [], ["94 kg", "95 g/L"]),
        ("Pacijentica, 93 godine, živi sama.", ["93"], []),
        ("Ibu beliau, umur 96 tahun, tinggal bersama.", ["96"], []),
        ("Grandfather (aged 97, 91 yrs at diagnosis) attends.", ["97", "91"], []),
        ("PSA 92 ng/mL; 90 Gy EQD2 to 95% of the PTV.", [], ["92 ng/mL", "90 Gy", "95%"]),
        ("Пациентка 91 год, гемоглобин 95 г/л.", ["91"], ["95 г/л"]),
        ("Sjúklingur, 90 ára, býr einn.", ["90"], []),
        ("Возраст: 93, ECOG 2.", ["93"], ["ECOG 2"]),
    ],
)
def test_ages_over_89(text: str, gone: list[str], kept: list[str]) -> None:
    assert_removed(text, gone, kept)


@pytest.mark.parametrize(
    "keep",
    [
        "Ann Arbor IIB",
        "Child-Pugh B7",
        "Van Nuys 6",
        "MST Continus 10 mg bd",
        "FLAG-Ida",
        "boost to tumour bed 16 Gy in 8 fractions",
        "Carcinome lobulaire infiltrant",
        "Mammakarzinom",
        "brusterhaltende Therapie",
        "Glioblastom, IDH-Wildtyp",
        "Cáncer de mama",
        "Hypofraktionierte Strahlentherapie 42,5 Gy",
        "T2N1M0",
        "pT2N1a",
        "40 Gy/15#",
        "Gleason 4+3",
        "Paget's disease",
        "Hodgkin lymphoma",
        "Ki-67 30%",
        "BRCA2",
        "ECOG 1",
    ],
)
def test_clinical_terms_of_several_languages_survive(keep: str) -> None:
    assert_removed(f"Summary: {keep}. Plan discussed.", [], [keep])


def test_extend_spans_grows_each_kind_by_its_neighbours() -> None:
    t = "Hosp no RMH 1102934, seen at UMC Utrecht, Elm Park, Dublin 4."
    grown = extend_spans(t, [("ID", 12, 19), ("ADDRESS", 33, 40)])
    assert [t[s:e] for _, s, e in grown] == ["RMH 1102934", "UMC Utrecht, Elm Park, Dublin 4"]
    t = "MRN 4471290 today"  # a label stays outside the number
    assert extend_spans(t, [("ID", 4, 11)]) == [("ID", 4, 11)]


def test_place_run_takes_places_and_stops_at_clinical_or_field_words() -> None:
    t = "Curraheen, Cork\nNext line"
    assert t[: place_run(t, 0, strict=True)] == "Curraheen, Cork"
    t = "Radiotherapy Dept, Stage IIIA"
    assert place_run(t, 0, strict=True) == 0
    t = "Elm Park, Tel 0161 446 3000"
    assert t[: place_run(t, 0, strict=True)] == ""  # common words, then no place: not taken
