"""Month and weekday names of many languages, as regular-expression fragments (no groups),
for the de-identifier's date rules (text.deid_intl, text.deid_extend, text.deid_layout).

Abbreviations that are also English words or clinical abbreviations (``out``, ``set``,
``mag``, ``gen``) are left out; text.deid_intl takes them only between a day and a year.

Example:
    >>> import re
    >>> bool(re.fullmatch(MONTH_INTL, "février")), bool(re.fullmatch(MONTH_INTL, "out"))
    (True, False)
"""

from __future__ import annotations

import re


def alt(words: str) -> str:
    """``a b c`` -> ``(?:a|b|c)``, longest first, each word also capitalised and in capitals."""
    forms = set()
    for w in words.split():
        forms |= {w, w[:1].upper() + w[1:], w.upper()}
    return "(?:" + "|".join(sorted(map(re.escape, forms), key=len, reverse=True)) + ")"


# month names of French, German, Spanish, Catalan, Italian, Portuguese, Dutch, Polish
# (genitive), Scandinavian; abbreviations only where they are no English or clinical word
MONTH_INTL = alt(
    """
    janvier février fevrier mars avril mai juin juillet août aout septembre octobre novembre
    décembre decembre janv févr fevr avr juil déc
    januar jänner jaenner februar märz maerz juni juli oktober dezember mär okt dez
    enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre
    diciembre ene abr dic gener febrer abril maig juny juliol setembre octubre desembre
    gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre giu lug ott
    janeiro fevereiro março marco maio junho julho setembro outubro dezembro fev
    januari februari maart mei augustus mrt
    stycznia lutego marca kwietnia maja czerwca lipca sierpnia września wrzesnia października
    pazdziernika listopada grudnia styczeń luty marzec kwiecień maj czerwiec lipiec sierpień
    wrzesień październik listopad grudzień
    januari februari mars april maj juni juli augusti marts desember
    ocak şubat subat mart nisan mayıs mayis haziran temmuz ağustos agustos eylül eylul ekim
    kasım kasim aralık aralik
    maret agustus desember
    tammikuuta helmikuuta maaliskuuta huhtikuuta toukokuuta kesäkuuta heinäkuuta elokuuta
    syyskuuta lokakuuta marraskuuta joulukuuta
    ledna února března dubna května června července srpna září října listopadu prosince
    januari februari mac julai ogos disember
    ionawr chwefror mawrth ebrill mehefin gorffennaf awst hydref tachwedd rhagfyr
    ianuarie februarie martie aprilie iunie iulie septembrie octombrie noiembrie decembrie
    január február március április május június július augusztus szeptember október
    tammikuu helmikuu maaliskuu huhtikuu toukokuu kesäkuu heinäkuu elokuu syyskuu lokakuu
    marraskuu joulukuu
    siječnja veljače ožujka travnja svibnja lipnja srpnja kolovoza rujna listopada studenoga
    studenog prosinca januara februara marta aprila juna jula avgusta septembra oktobra
    novembra decembra
    janúar febrúar apríl maí júní júlí ágúst nóvember desember nóv ágú
    september november december
    janvāris februāris aprīlis maijs jūnijs jūlijs augusts septembris oktobris novembris
    decembris sausio vasario kovo balandžio gegužės birželio liepos rugpjūčio rugsėjo spalio
    lapkričio gruodžio
    enero pebrero marso hunyo hulyo setyembre oktubre nobyembre disyembre
    ιανουαρίου φεβρουαρίου μαρτίου απριλίου μαΐου ιουνίου ιουλίου αυγούστου σεπτεμβρίου
    οκτωβρίου νοεμβρίου δεκεμβρίου
    января февраля марта апреля мая июня июля августа сентября октября ноября декабря
    січня лютого березня квітня травня червня липня серпня вересня жовтня листопада грудня
    януари февруари април юни юли септември октомври ноември декември
    jan feb apr jun jul aug sept oct nov dec
    """
)
WEEKDAY_INTL = alt(
    """
    lundi mardi mercredi jeudi vendredi samedi dimanche lun mer jeu ven sam dim
    montag dienstag mittwoch donnerstag freitag samstag sonntag
    lunes martes miércoles miercoles jueves viernes sábado sabado domingo
    lunedì lunedi martedì martedi mercoledì mercoledi giovedì giovedi venerdì venerdi sabato
    domenica segunda-feira terça-feira terca-feira quarta-feira quinta-feira sexta-feira
    maandag dinsdag woensdag donderdag vrijdag zaterdag zondag
    poniedziałek wtorek środa czwartek piątek sobota niedziela
    mandag tirsdag onsdag torsdag fredag lørdag søndag måndag tisdag lördag söndag
    maanantai tiistai keskiviikko torstai perjantai lauantai sunnuntai
    pondělí úterý středa čtvrtek pátek neděle pondelok utorok streda štvrtok piatok nedeľa
    hétfő kedd szerda csütörtök péntek szombat vasárnap
    pazartesi salı çarşamba perşembe cumartesi
    понедельник вторник среда четверг пятница суббота воскресенье
    mánudagur þriðjudagur miðvikudagur fimmtudagur föstudagur laugardagur sunnudagur
    """
)
# short weekdays taken only right before a day and month (none that is a clinical or common
# abbreviation: not po, st, mar, dom, ter, sex): Czech and Slovak, Scandinavian, Italian,
# Spanish, Russian, Icelandic, Finnish (ke, pe: not ma, ti, to, la, su)
WEEKDAY_BEFORE_DATE = alt(
    """
    út čt pá št tis fre lør søn mån lör sön gio mié jue vie пн вт ср чт пт сб вс þri mið fim
    fös ke pe
    """
)
# a weekday's two-letter forms (German Mo Di Mi Do Fr Sa So, Dutch ma di wo do vr za zo) are
# only taken right before a date, by text.deid_extend
WEEKDAY_SHORT = r"(?:Mo|Di|Mi|Do|Fr|Sa|So|ma|di|wo|do|vr|za|zo|Lu|Ma|Me|Je|Ve)"
ROMAN_MONTH = r"(?:XII|XI|X|IX|VIII|VII|VI|V|IV|III|II|I)"
