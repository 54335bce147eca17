"""A generated history of closed conversations, for the team-suggestion tests and
``benchmarks/routing.py``.

How it is generated (deterministic for a seed): ``weeks`` weeks of
``per_week`` customer conversations each, starting at random moments of the
week and closed one to five days later. Each conversation belongs to one of
four teams, in proportions close to a ChargeCars desk (customer service 45 %,
technical 30 %, sales 17 %, management 8 %). Its first message is built from
that team's sentence templates (below) with slots filled at random (charger
brands, places, amounts, dates), wrapped in a greeting and a closing shared by
all teams; 20 % are written in English. The channel and whether the customer
had an order are drawn from per-team odds. Skills: half of the technical
conversations name the customer's charger brand, and a conversation that names
one is tagged with it two times out of three.

Three things keep it from being easy: 12 % of first messages say too little
to tell ("Could you call me back?", the same few sentences for every team),
8 % of conversations carry the words of
another team than the one they ended with (a complaint about an invoice that
management took, a question that looks technical but was a sale), and from
halfway through the history sales starts selling home batteries, words no
earlier conversation used, so a model trained on the first weeks has not seen
them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

TEAMS = {"customer-service": 0.45, "tech": 0.30, "sales": 0.17, "management": 0.08}
CHANNELS = {
    "customer-service": {"email_outlook": 0.45, "whatsapp_business": 0.45, "sms": 0.10},
    "tech": {"whatsapp_business": 0.55, "email_outlook": 0.35, "sms": 0.10},
    "sales": {"email_outlook": 0.75, "whatsapp_business": 0.25},
    "management": {"email_outlook": 0.85, "whatsapp_business": 0.15},
}
HAS_ORDER = {"customer-service": 0.6, "tech": 0.9, "sales": 0.15, "management": 0.7}
BRANDS = ("alfen", "zaptec", "easee", "wallbox")
PLACES = ("Utrecht", "Amersfoort", "Zwolle", "Haarlem", "Breda", "Delft")

SENTENCES = {
    "customer-service": {
        "nl": [
            "Ik heb een vraag over mijn factuur {n}, het bedrag klopt volgens mij niet.",
            "Wanneer komt de monteur? Ik heb nog geen datum ontvangen voor de afspraak.",
            "Kunnen jullie de afspraak van {day} verzetten? Ik ben dan niet thuis.",
            "Ik wil mijn adres wijzigen, we zijn verhuisd naar {place}.",
            "Is mijn betaling van {amount} euro goed aangekomen?",
            "Ik heb de bevestiging van mijn bestelling nog niet gekregen.",
            "Graag een kopie van de factuur, ik kan hem niet meer vinden.",
            "Wat is de status van mijn bestelling? Ik hoor niets meer.",
            "Kan ik de afspraak naar volgende week verplaatsen?",
            "Ik ben de inloggegevens voor het klantportaal kwijt.",
        ],
        "en": [
            "I have a question about invoice {n}, the amount seems wrong.",
            "When will the installer come? I have not received a date yet.",
            "Could you move the appointment on {day}? I will not be home.",
            "Did my payment of {amount} euros arrive?",
            "What is the status of my order? I have not heard anything.",
        ],
    },
    "tech": {
        "nl": [
            "Mijn {brand} laadpaal laadt niet meer, het lampje knippert rood.",
            "De laadpaal geeft een foutmelding en de auto laadt maar op halve snelheid.",
            "Sinds de installatie valt de stroom uit als ik laad, de aardlekschakelaar slaat af.",
            "De laadkabel zit vast in de {brand} en ik krijg hem er niet meer uit.",
            "De app geeft aan dat de laadpaal offline is, wifi werkt wel.",
            "De monteur heeft de kabel slecht weggewerkt, er hangt een draad los in de meterkast.",
            "Het laadvermogen is veel lager dan de 11 kW die beloofd was.",
            "De laadpaal start niet meer na een stroomstoring, reset helpt niet.",
            "Er zit een storing in de laadpaal, het display blijft zwart.",
            "De load balancing werkt niet, de hoofdzekering springt eruit.",
            "Mijn laadpaal doet het niet meer sinds {day}, er komt geen stroom uit.",
            "Bij de installatie is iets misgegaan, de laadpaal werkt niet goed.",
            "De laadpaal is verkeerd aangesloten, volgens mij kloppen de fases niet.",
            "Na het bezoek van de monteur doet de laadpaal het niet meer.",
            "Er is iets kapot aan de laadpaal, de stekker wordt niet herkend.",
        ],
        "en": [
            "My {brand} charger stopped charging, the light is blinking red.",
            "The charging station shows an error and the car charges slowly.",
            "Since the installation the breaker trips whenever I start charging.",
            "The app says the charger is offline although the wifi works.",
            "The installer left a loose wire in the fuse box.",
            "The charger has not worked since the installer connected it.",
        ],
    },
    "sales": {
        "nl": [
            "Ik wil graag een offerte voor een laadpaal bij mijn woning in {place}.",
            "Wat kost een laadpaal inclusief installatie voor een VvE met {n} parkeerplaatsen?",
            "Wij zoeken laadpalen voor ons bedrijfsterrein, kunnen jullie langskomen?",
            "Hebben jullie ook een laadpaal met twee aansluitingen? Graag een prijsopgave.",
            "Ik heb een offerte ontvangen, kan er nog iets aan de prijs gedaan worden?",
            "Is er subsidie mogelijk op een zakelijke laadpaal? Graag informatie.",
            "Kunnen jullie een voorstel maken voor {n} laadpunten bij ons kantoor?",
        ],
        "en": [
            "I would like a quote for a charging station at my home in {place}.",
            "How much does a charger with installation cost for {n} parking spaces?",
            "We are looking for chargers for our company car park, can you visit?",
        ],
    },
    "management": {
        "nl": [
            "Ik wil een klacht indienen, dit is al de derde keer dat de afspraak niet doorgaat.",
            "Ik ben zeer ontevreden over de gang van zaken en wil de directie spreken.",
            "Als dit niet binnen een week is opgelost schakel ik een advocaat in.",
            "Ik eis een schadevergoeding voor de vernielde muur in de garage.",
            "Uw medewerker was onbeschoft aan de telefoon, ik wil een leidinggevende spreken.",
        ],
        "en": [
            "I want to file a formal complaint, this is the third missed appointment.",
            "I am very unhappy and want to speak to a manager.",
            "I demand compensation for the damaged wall in my garage.",
        ],
    },
}
# From halfway on, sales sells home batteries: new words, no earlier examples.
LATER_SALES = {
    "nl": [
        "Verkopen jullie ook thuisbatterijen? Ik wil mijn zonnepanelen koppelen.",
        "Wat kost een thuisbatterij van {n} kWh in combinatie met de laadpaal?",
        "Kan de thuisbatterij samen met de laadpaal geleverd worden? Graag een prijs.",
    ],
    "en": ["Do you sell home batteries to store my solar power? Please send a price."],
}
# A first message that says too little to tell the team ("call me back").
VAGUE = {
    "nl": [
        "Kunnen jullie mij terugbellen?",
        "Ik heb een vraag over mijn laadpaal.",
        "Graag contact, het gaat over mijn bestelling.",
        "Ik probeer jullie al de hele dag te bereiken.",
    ],
    "en": ["Could you call me back?", "I have a question about my charger."],
}
VAGUE_SHARE = 0.12
GREETINGS = {"nl": ("Hallo,", "Goedemiddag,", "Beste ChargeCars,", ""), "en": ("Hello,", "Hi,", "")}
CLOSINGS = {
    "nl": ("Met vriendelijke groet, Jan", "Groetjes, Sanne", "Alvast bedankt!", ""),
    "en": ("Kind regards, Peter", "Thanks!", ""),
}
OTHER_TEAM_SHARE = 0.08
ENGLISH_SHARE = 0.20


@dataclass(frozen=True)
class HistoricConversation:
    started_at: datetime
    closed_at: datetime
    text: str
    channel: str
    has_order: bool
    team: str  # the team slug it ended with
    skills: tuple[str, ...] = ()


def _pick(rng: random.Random, odds: dict[str, float]) -> str:
    return rng.choices(list(odds), weights=list(odds.values()))[0]


def _sentence(rng: random.Random, team: str, language: str, later: bool) -> str:
    options = list(SENTENCES[team][language])
    if team == "sales" and later:
        options += LATER_SALES[language] * 2
    template = rng.choice(options)
    return template.format(
        brand=rng.choice(BRANDS).capitalize(),
        place=rng.choice(PLACES),
        n=rng.randint(2, 40),
        amount=rng.randint(90, 2400),
        day=rng.choice(
            ("maandag", "dinsdag", "vrijdag") if language == "nl" else ("Monday", "Friday")
        ),
    )


def generate_history(
    *, weeks: int = 12, per_week: int = 60, seed: int = 33, end: datetime | None = None
) -> list[HistoricConversation]:
    """``weeks`` × ``per_week`` closed conversations up to ``end`` (default now), oldest first."""
    rng = random.Random(seed)
    end = end or datetime.now(timezone.utc)
    start = end - timedelta(weeks=weeks)
    conversations = []
    for week in range(weeks):
        later = week >= weeks // 2
        for _ in range(per_week):
            team = _pick(rng, TEAMS)
            language = "en" if rng.random() < ENGLISH_SHARE else "nl"
            words_of = _pick(rng, TEAMS) if rng.random() < OTHER_TEAM_SHARE else team
            if rng.random() < VAGUE_SHARE:
                body = rng.choice(VAGUE[language])
            else:
                body = _sentence(rng, words_of, language, later)
                if rng.random() < 0.4:  # a second sentence of the same kind
                    body += " " + _sentence(rng, words_of, language, later)
            if team == "tech" and rng.random() < 0.5:  # the customer names their charger
                brand = rng.choice(BRANDS).capitalize()
                body += f" Het gaat om een {brand}." if language == "nl" else f" It is a {brand}."
            text = " ".join(
                part
                for part in (rng.choice(GREETINGS[language]), body, rng.choice(CLOSINGS[language]))
                if part
            )
            skills = ()
            named = [brand for brand in BRANDS if brand in text.lower()]
            if team == "tech" and named and rng.random() < 2 / 3:
                skills = (named[0],)
            started_at = start + timedelta(weeks=week, seconds=rng.randint(0, 7 * 86400 - 1))
            conversations.append(
                HistoricConversation(
                    started_at=started_at,
                    closed_at=started_at + timedelta(hours=rng.randint(24, 120)),
                    text=text,
                    channel=_pick(rng, CHANNELS[team]),
                    has_order=rng.random() < HAS_ORDER[team],
                    team=team,
                    skills=skills,
                )
            )
    conversations.sort(key=lambda conversation: conversation.started_at)
    return conversations
