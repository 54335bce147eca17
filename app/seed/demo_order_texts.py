"""What demo orders contain and the Dutch reasons written into their history."""

from __future__ import annotations

# Share of partner orders per partner, roughly the partners' real monthly volumes.
PARTNER_WEIGHTS = {
    "Groendus": 30,
    "Groendus Regio Oost": 6,
    "Laadpunt Zwolle B.V.": 8,
    "Essent": 18,
    "Eneco": 15,
    "50five": 8,
    "Alva": 15,
}

# Per master partner: (one of these partner SKUs, chance it is on the order, quantity range).
PARTNER_BASKETS = {
    "Groendus": [
        (["GRO-ALFEN-11", "GRO-ALFEN-11", "GRO-ZAPTEC-GO"], 1.0, (1, 1)),
        (["GRO-INSTALL-1", "GRO-INSTALL-3"], 1.0, (1, 1)),
        (["GRO-KABEL-M"], 0.35, (3, 15)),
    ],
    "Essent": [(["ESS-WALLBOX-22"], 1.0, (1, 1)), (["ESS-INSTALL-STD"], 1.0, (1, 1))],
    "Eneco": [
        (["ENE-EASEE-22"], 1.0, (1, 1)),
        (["ENE-INST-1F"], 1.0, (1, 1)),
        (["ENE-LB-P1"], 0.4, (1, 1)),
    ],
    "50five": [(["50F-ZAPPI-7"], 1.0, (1, 1)), (["50F-INSTALL"], 1.0, (1, 1))],
    "Alva": [(["ALV-EVE-S"], 1.0, (1, 1)), (["ALV-INSTALL-3F"], 1.0, (1, 1))],
}

# Codes partners send that nobody has mapped yet: these put an order up for review.
UNMAPPED_SKUS = {
    "Groendus": ["GRO-SOLAR-KOPPEL", "GRO-THUISBATT-5"],
    "Essent": ["ESS-SLIMME-METER-KIT"],
    "Eneco": ["ENE-KABEL-25M"],
    "50five": ["50F-ZAPPI-22-3F"],
    "Alva": ["ALV-WALLMOUNT-XL"],
}

# Wallbox and the installation package that goes with it, for direct customers.
DIRECT_WALLBOXES = [
    ("ALF-EVE-S-11KW", "INST-BASIC-3P"),
    ("ALF-EVE-S-11KW", "INST-BASIC-1P"),
    ("ALF-EVE-D-22KW", "INST-BASIC-3P"),
    ("MYE-ZAPPI-7KW", "INST-BASIC-1P"),
    ("ZAP-GO-11KW", "INST-BASIC-3P"),
    ("ZAP-GO-11KW", "INST-BASIC-1P"),
    ("EAS-CHARGEUP-22KW", "INST-BASIC-3P"),
]

REASONS = {
    "new": {
        "partner_api": "Order ontvangen via partner-API ({partner})",
        "fillout": "Intake via Fillout-formulier op chargecars.nl",
        "email": "Order aangemaakt uit e-mail van de klant",
        "manual": "Handmatig aangemaakt na telefonisch contact",
        "make": "Aangemaakt door Make.com-scenario (webshop-bestelling)",
    },
    "quote_sent": [
        "Offerte verstuurd per e-mail",
        "Offerte op maat verstuurd na beoordeling meterkastfoto's",
        "Offerte verstuurd inclusief meerprijs extra kabelmeters",
    ],
    "approved": [
        "Offerte digitaal getekend door klant",
        "Akkoord ontvangen per e-mail",
        "Akkoord via partnerportaal",
    ],
    "scheduled": "Installatie ingepland op {date}",
    "in_progress": ["Monteur ter plaatse gemeld via de app", "Monteur gestart met installatie"],
    "completed": [
        "Installatie afgerond, opleverrapport getekend",
        "Laadpaal opgeleverd en getest (testlading OK)",
        "Installatie afgerond, laadpaal gekoppeld aan de app van de klant",
    ],
    "on_hold": [
        "Wacht op verzwaring aansluiting door netbeheerder",
        "Klant wacht op levering van de auto, installatie uitgesteld",
        "Wacht op toestemming van de VvE",
        "Meterkast moet eerst vervangen worden",
    ],
    "cancelled": [
        "Klant heeft geannuleerd binnen de bedenktijd",
        "Klant kiest voor een andere aanbieder",
        "Dubbele aanvraag, samengevoegd met eerdere order",
    ],
}
