"""Dutch names, places and calendar words the demo customers are made of.

Street names, postcode ranges, municipality codes and coordinates are real, so
the demo data reads like ChargeCars' own and PDOK-shaped fields look plausible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

FIRST_NAMES = [
    "Jan",
    "Pieter",
    "Kees",
    "Henk",
    "Willem",
    "Bas",
    "Joost",
    "Maarten",
    "Niels",
    "Sander",
    "Bram",
    "Jesse",
    "Sem",
    "Luuk",
    "Milan",
    "Tim",
    "Rick",
    "Wouter",
    "Erik",
    "Hans",
    "Gerrit",
    "Arjen",
    "Marco",
    "Dennis",
    "Mohamed",
    "Youssef",
    "Stefan",
    "Frank",
    "Rob",
    "Koen",
    "Anna",
    "Emma",
    "Julia",
    "Lotte",
    "Fleur",
    "Iris",
    "Lisa",
    "Sophie",
    "Eva",
    "Femke",
    "Marloes",
    "Ingrid",
    "Karin",
    "Monique",
    "Esther",
    "Saskia",
    "Linda",
    "Petra",
    "Nicole",
    "Yvonne",
    "Ilse",
    "Noor",
    "Sara",
    "Fatma",
    "Naima",
    "Mirjam",
    "Annelies",
    "Wendy",
    "Judith",
    "Hanneke",
]

# Surnames as the Dutch write them after a first name, tussenvoegsel included.
LAST_NAMES = [
    "de Vries",
    "Jansen",
    "van den Berg",
    "Bakker",
    "van Dijk",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkstra",
    "Smits",
    "de Graaf",
    "van der Meer",
    "van der Linden",
    "Kok",
    "Jacobs",
    "de Haan",
    "Vermeulen",
    "van den Heuvel",
    "van der Veen",
    "van den Broek",
    "de Bruijn",
    "de Jong",
    "van Beek",
    "Schouten",
    "van Vliet",
    "Hoekstra",
    "Maas",
    "Verhoeven",
    "Koster",
    "Prins",
    "Blom",
    "Huisman",
    "Peeters",
    "van Wijk",
    "Kuipers",
    "Postma",
    "Boersma",
    "van der Heijden",
    "Willems",
    "el Idrissi",
    "Yilmaz",
    "Kaya",
    "van Rijn",
    "ter Horst",
    "Oosterhuis",
    "Wolters",
    "Timmermans",
    "van 't Hof",
    "Groen",
]

EMAIL_DOMAINS = [
    "gmail.com",
    "hotmail.com",
    "outlook.com",
    "ziggo.nl",
    "kpnmail.nl",
    "xs4all.nl",
    "live.nl",
    "icloud.com",
    "planet.nl",
    "home.nl",
]


@dataclass(frozen=True)
class City:
    name: str
    province: str
    # CBS municipality code: the first four digits of every BAG id issued there.
    municipality_code: str
    postcode_range: tuple[int, int]
    latitude: float
    longitude: float
    streets: tuple[str, ...]


CITIES = [
    City(
        "Amsterdam",
        "Noord-Holland",
        "0363",
        (1011, 1109),
        52.3676,
        4.9041,
        (
            "Prinsengracht",
            "Keizersgracht",
            "Overtoom",
            "Javastraat",
            "Kinkerstraat",
            "Van Woustraat",
            "Buikslotermeerplein",
            "Beethovenstraat",
        ),
    ),
    City(
        "Utrecht",
        "Utrecht",
        "0344",
        (3511, 3585),
        52.0907,
        5.1214,
        (
            "Oudegracht",
            "Biltstraat",
            "Amsterdamsestraatweg",
            "Kanaalstraat",
            "Burgemeester Reigerstraat",
            "Vleutenseweg",
        ),
    ),
    City(
        "Rotterdam",
        "Zuid-Holland",
        "0599",
        (3011, 3089),
        51.9244,
        4.4777,
        (
            "Coolsingel",
            "Witte de Withstraat",
            "Nieuwe Binnenweg",
            "Kralingse Plaslaan",
            "Straatweg",
            "Groene Hilledijk",
        ),
    ),
    City(
        "Den Haag",
        "Zuid-Holland",
        "0518",
        (2491, 2597),
        52.0705,
        4.3007,
        (
            "Laan van Meerdervoort",
            "Frederik Hendriklaan",
            "Weimarstraat",
            "Regentesselaan",
            "Loosduinseweg",
            "Stadhoudersplantsoen",
        ),
    ),
    City(
        "Eindhoven",
        "Noord-Brabant",
        "0772",
        (5611, 5658),
        51.4416,
        5.4697,
        (
            "Stratumseind",
            "Kruisstraat",
            "Boschdijk",
            "Aalsterweg",
            "Tongelresestraat",
            "Woenselse Markt",
        ),
    ),
    City(
        "Zwolle",
        "Overijssel",
        "0193",
        (8011, 8046),
        52.5168,
        6.0830,
        (
            "Assendorperstraat",
            "Diezerstraat",
            "Wipstrikkerallee",
            "Dobbe",
            "Oosterlaan",
        ),
    ),
    City(
        "Amersfoort",
        "Utrecht",
        "0307",
        (3811, 3829),
        52.1561,
        5.3878,
        (
            "Leusderweg",
            "Utrechtseweg",
            "Kapelweg",
            "Hogeweg",
            "Vathorstlaan",
        ),
    ),
    City(
        "Haarlem",
        "Noord-Holland",
        "0392",
        (2011, 2037),
        52.3874,
        4.6462,
        (
            "Kleverparkweg",
            "Zijlweg",
            "Rijksstraatweg",
            "Schoterweg",
            "Wagenweg",
        ),
    ),
    City(
        "Groningen",
        "Groningen",
        "0014",
        (9711, 9747),
        53.2194,
        6.5665,
        (
            "Herestraat",
            "Oosterstraat",
            "Paterswoldseweg",
            "Helperzoom",
            "Korreweg",
        ),
    ),
    City(
        "Arnhem",
        "Gelderland",
        "0202",
        (6811, 6846),
        51.9851,
        5.8987,
        (
            "Amsterdamseweg",
            "Velperweg",
            "Rosendaalseweg",
            "Steenstraat",
            "Schelmseweg",
        ),
    ),
    City(
        "Nijmegen",
        "Gelderland",
        "0268",
        (6511, 6546),
        51.8126,
        5.8372,
        (
            "Groesbeekseweg",
            "Sint Annastraat",
            "Hatertseweg",
            "Graafseweg",
        ),
    ),
    City(
        "Leiden",
        "Zuid-Holland",
        "0546",
        (2311, 2334),
        52.1601,
        4.4970,
        (
            "Rijnsburgerweg",
            "Hooigracht",
            "Haarlemmerstraat",
            "Morsweg",
        ),
    ),
    City(
        "Apeldoorn",
        "Gelderland",
        "0200",
        (7311, 7339),
        52.2112,
        5.9699,
        (
            "Loolaan",
            "Deventerstraat",
            "Laan van Zevenhuizen",
            "Jachtlaan",
        ),
    ),
    City(
        "Breda",
        "Noord-Brabant",
        "0758",
        (4811, 4839),
        51.5719,
        4.7683,
        (
            "Ginnekenweg",
            "Haagweg",
            "Baronielaan",
            "Teteringsedijk",
        ),
    ),
    City(
        "Almere",
        "Flevoland",
        "0034",
        (1311, 1365),
        52.3508,
        5.2647,
        (
            "Grote Markt",
            "Spoordreef",
            "Evenaar",
            "Muziekweg",
            "Odeonstraat",
        ),
    ),
]

# Dutch postcodes never use these letter pairs, so neither does the demo.
FORBIDDEN_POSTCODE_LETTERS = {"SA", "SD", "SS"}
HOUSE_NUMBER_ADDITIONS = ["A", "B", "bis", "2", "hs", "1"]

INSTALLATION_NOTES = [
    "Meterkast zit in de garage, laadpaal graag aan de buitenmuur ernaast.",
    "Graag een half uur van tevoren bellen, we werken allebei.",
    "Oprit naast de woning, kabel moet onder de tegels door (ca. 12 m).",
    "Er is een hond aanwezig, die zit tijdens de installatie binnen.",
    "Meterkast is vorig jaar vernieuwd, 3-fase aansluiting aanwezig.",
    "Parkeren kan op eigen terrein achter het hek, code 1955.",
    "Laadpaal op een staander bij de carport, niet aan de gevel.",
    "Huurwoning: toestemming van de verhuurder is binnen.",
    "Zonnepanelen aanwezig, graag koppeling met P1-meter voor load balancing.",
    "Appartementencomplex, parkeerplaats in de kelder (nr. 14).",
]

TIME_WINDOWS = ["ochtend (08:00-12:00)", "middag (12:00-17:00)", "hele dag beschikbaar"]

WEEKDAYS = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]
MONTHS = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]


def next_workday(day: date) -> date:
    """The day itself, or the Monday after it when it falls in a weekend."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def dutch_date(day: date) -> str:
    """``donderdag 12 maart``: how a planner writes a visit date to a customer."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"
