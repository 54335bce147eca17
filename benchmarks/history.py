"""A generated history of customer conversations, for benchmarks/suggestions.py.

Nothing here is real customer data: the history is GENERATED, deterministically
from a seed, by the rules below, which are meant to look like a Dutch EV-charger
installer's desk, not to measure one.

* Conversations start at random moments over ``days`` days, 65 % on WhatsApp and
  35 % by e-mail; 10 % of customers write English. Each customer has one order
  whose status fits what they ask about; a planned order has a visit 2–20 days
  after the first message, in one of three windows.
* Each conversation has one to three exchanges (a customer message, then an
  agent's reply 5–240 minutes later). The first message asks about one of twelve
  topics (installation date, moving the visit, a wrong invoice, a fault, order
  status, a quote, a photo of the meter cupboard, subsidy, the cable route, three
  phases, paying in instalments, a complaint), in one of 5–8 Dutch or 3 English
  phrasings, with or without a greeting and a closing line. Follow-ups ask a second
  topic or say thanks.
* Agents (six) answer per topic with a message template (a fixed share per topic)
  or with their own words: each topic has two or three phrasings the team uses,
  each agent prefers one of them (80 %) and opens and signs in their own way
  ("Beste Jan," / "Hoi Jan," / "Beste Jan Jansen,"; "Groet, Fatima – ChargeCars",
  "Met vriendelijke groet,\\nFatima Yilmaz\\nChargeCars" …). A visit's day is written
  in one of the forms agents use ("op donderdag 26 november tussen 8:00 en 12:00",
  "op 26-11-2026 tussen 08:00 en 12:00", "donderdag tussen 8 en 12 uur" when it is
  this week, "morgen" when it is tomorrow). 5–30 % of replies per topic are written
  off script (a sentence of their own, sometimes naming another date), which no
  suggestion can predict.
* 88 % of conversations are resolved after their last reply; 30 % of those are
  rated, and 12 % of ratings are 1 or 2.

:func:`generate` returns the conversations; the replay orders their events in time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

WEEKDAYS_NL = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]
MONTHS_NL = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
             "september", "oktober", "november", "december"]  # fmt: skip
WEEKDAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]  # fmt: skip
WINDOWS = [("08:00", "12:00"), ("12:00", "17:00"), ("08:00", "17:00")]
FIRST = ("Anouk Daan Sanne Bram Lotte Thijs Fleur Lars Iris Ruben Eva Jesse Noor Sem Lisa Luuk "
         "Femke Milan Emma Stijn Julia Tim Sophie Bas Anna Joris Maud Niels Roos Koen Ilse "
         "Wouter Marloes Pieter Esther Gijs Yara Mohammed Fatima Kevin").split()
LAST = ("de Vries|Jansen|de Jong|Bakker|Visser|Smit|Meijer|de Boer|Mulder|de Groot|Bos|Vos|"
        "Peters|Hendriks|van Leeuwen|Dekker|Brouwer|de Wit|Dijkstra|Smits|de Graaf|"
        "van der Meer|Kok|Jacobs|de Haan|Vermeulen|van den Berg|van Dijk|Schouten|Willems|"
        "Hoekstra|Koster|Prins|Blom|Huisman|Kuipers|van Veen|Postma|Maas|Yilmaz|El Amrani|"
        "Kramer").split("|")
AGENTS = [
    ("Fatima Yilmaz", "Beste {first},", "Groet, Fatima – ChargeCars"),
    ("Daan Mulder", "Hoi {first},", "Met vriendelijke groet,\nDaan Mulder\nChargeCars"),
    ("Sanne Bakker", "Beste {full},", "Vriendelijke groet,\nSanne"),
    ("Kevin Hendriks", "Goedemorgen {first},", "Mvg Kevin"),
    ("Iris de Wit", "Beste {first},",
     "Met vriendelijke groet,\nIris de Wit\nKlantenservice ChargeCars"),
    ("Bram Visser", "Hallo {first},", "Groeten, Bram"),
]  # fmt: skip
AGENTS_EN = ("Dear {first},", "Kind regards,\n{agent}")
TECHNICIANS = ["Ruben Visser", "Kevin Hendriks", "Daan de Jong", "Milan Kok"]

# The team's templates (key: display name, language, channel, approved WhatsApp name, text).
TEMPLATES = {
    "planning": ("Planning installatie", "nl", "any", None,
                 "Beste {{customer_name}}, uw laadpaal wordt {{visit_moment}} geïnstalleerd door "
                 "{{technician_name}}. Hij belt u als hij onderweg is."),
    "planning_en": ("Installation date", "en", "any", None,
                    "Dear {{customer_name}}, your charger will be installed {{visit_moment}} by "
                    "{{technician_name}}. He will call you when he is on his way."),
    "invoice": ("Factuur gecorrigeerd", "nl", "any", None,
                "Beste {{customer_name}}, we hebben uw factuur voor order {{order_id}} "
                "gecontroleerd en gecorrigeerd. U ontvangt de nieuwe factuur per e-mail."),
    "fault": ("Storing: herstarten", "nl", "any", None,
              "Beste {{customer_name}}, wilt u de laadpaal herstarten met de hoofdschakelaar in "
              "de meterkast? Laadt hij daarna nog niet, dan plannen we een monteur in."),
    "fault_en": ("Fault: restart", "en", "any", None,
                 "Dear {{customer_name}}, could you restart the charger with the main switch in "
                 "the meter cupboard? If it still does not charge, we will send a technician."),
    "status": ("Update orderstatus", "nl", "whatsapp_business", "order_status_update",
               "De status van uw bestelling {{order_id}} is gewijzigd naar: {{order_status}}. "
               "Heeft u vragen? Reageer gerust op dit bericht."),
    "quote": ("Offerte in behandeling", "nl", "any", None,
              "Beste {{customer_name}}, dank voor uw aanvraag. U ontvangt de offerte binnen "
              "twee werkdagen per e-mail."),
    "complaint": ("Reactie op klacht", "nl", "any", None,
                  "Beste {{customer_name}}, excuses dat het niet is gegaan zoals u van ons mag "
                  "verwachten. {{agent_name}} belt u vandaag nog om een oplossing te bespreken."),
}  # fmt: skip

# Per topic: share, order status, template key (Dutch, English) and its share, the
# customer's phrasings (Dutch, English), the team's own phrasings (Dutch, English)
# and the share written off script.
TOPICS = {
    "planning": dict(
        share=22, status="scheduled", template=("planning", "planning_en"), template_share=45,
        nl=["Wanneer komt de monteur de laadpaal installeren?",
            "Op welke datum is de installatie gepland?",
            "Weet u al wanneer mijn laadpaal wordt geïnstalleerd?",
            "Wanneer wordt de laadpaal geplaatst? Ik moet vrij nemen.",
            "Is er al een datum voor de installatie van mijn laadpaal?",
            "Hoe laat komt de monteur en op welke dag?",
            "Kunt u mij de installatiedatum laten weten?"],
        en=["When will the technician install my charger?",
            "Is there a date for the installation yet?",
            "Which day is my charger being installed?"],
        replies_nl=["De monteur komt {moment}.",
                    "Uw installatie staat gepland {moment}. {tech} komt bij u langs.",
                    "We hebben u ingepland {moment}. De monteur belt u als hij onderweg is."],
        replies_en=["The technician will come {moment_en}.",
                    "Your installation is planned {moment_en}. {tech} will visit you."],
        off=10),
    "reschedule": dict(
        share=10, status="scheduled", template=None, template_share=0,
        nl=["Kan de afspraak verzet worden? Ik ben die dag niet thuis.",
            "Komt de datum van de installatie slecht uit, kan het een andere dag?",
            "Ik moet de afspraak met de monteur helaas verzetten.",
            "Is het mogelijk om de installatie een week later te doen?",
            "Kunnen we een andere datum voor de monteur prikken?"],
        en=["Can we move the appointment? I am not home that day.",
            "I need to reschedule the installation, is that possible?",
            "Could the technician come on another day?"],
        replies_nl=["Dat kan. Welke dagen komen u goed uit? Dan zoeken we samen een nieuw moment.",
                    "Geen probleem, we verzetten de afspraak graag. Geeft u door welke dagen u "
                    "thuis bent?"],
        replies_en=["No problem. Which days suit you? We will find a new moment together."],
        off=20),
    "invoice": dict(
        share=10, status="completed", template=("invoice", None), template_share=60,
        nl=["Het bedrag op mijn factuur klopt niet.",
            "Ik heb de factuur ontvangen maar er staat een te hoog bedrag op.",
            "Er staat een verkeerde prijs op de factuur.",
            "Mijn factuur is niet juist, kunt u die controleren?",
            "De factuur rekent twee keer de installatie."],
        en=["The amount on my invoice is wrong.", "My invoice shows the wrong price.",
            "Could you check my invoice? It is too high."],
        replies_nl=["We hebben de factuur nagekeken en gecorrigeerd. U ontvangt hem opnieuw "
                    "per e-mail."],
        replies_en=["We checked and corrected the invoice. You will receive it again by e-mail."],
        off=10),
    "fault": dict(
        share=12, status="completed", template=("fault", "fault_en"), template_share=50,
        nl=["Mijn laadpaal laadt niet meer en knippert rood.",
            "De laadpaal geeft een foutmelding en de auto laadt niet.",
            "Na de stroomstoring werkt de laadpaal niet meer.",
            "De laadpas wordt niet herkend door de laadpaal.",
            "De app zegt dat de laadpaal offline is.",
            "Mijn auto laadt maar heel langzaam."],
        en=["My charger stopped charging and blinks red.",
            "The charger shows an error and my car does not charge.",
            "After a power cut the charger does not work."],
        replies_nl=["Wilt u de laadpaal even herstarten via de hoofdschakelaar? Laat u weten of "
                    "het daarna werkt?",
                    "We hebben de laadpaal op afstand opnieuw opgestart. Kunt u het nog eens "
                    "proberen?"],
        replies_en=["Could you restart the charger with the main switch and tell us if it works?"],
        off=15),
    "status": dict(
        share=10, status="approved", template=("status", None), template_share=40,
        nl=["Wat is de status van mijn bestelling?",
            "Is er al nieuws over mijn order?",
            "Hoe staat het met mijn bestelling?",
            "Ik heb nog niets gehoord over mijn bestelling, klopt dat?",
            "Is mijn order al goedgekeurd?"],
        en=["What is the status of my order?", "Any news about my order?",
            "Has my order been approved yet?"],
        replies_nl=["Uw order {order} is goedgekeurd. We nemen binnenkort contact met u op om "
                    "de installatie te plannen.",
                    "Uw bestelling is in behandeling; de planning neemt contact met u op voor "
                    "een datum."],
        replies_en=["Your order {order} has been approved. We will contact you soon to plan "
                    "the installation."],
        off=15),
    "quote": dict(
        share=8, status="new", template=("quote", None), template_share=40,
        nl=["Ik wil graag een offerte voor een thuislader.",
            "Kunt u een offerte maken voor een laadpaal?",
            "Wat kost een laadpaal inclusief installatie?",
            "Graag een prijsopgave voor twee laadpunten."],
        en=["I would like a quote for a home charger.", "How much is a charger with installation?",
            "Could you send me a quote?"],
        replies_nl=["Dank voor uw aanvraag. U ontvangt de offerte binnen twee werkdagen."],
        replies_en=["Thank you for your request. You will receive the quote within two working "
                    "days."],
        off=30),
    "photo": dict(
        share=6, status="approved", template=None, template_share=0,
        nl=["Ik heb een foto van de meterkast gestuurd.",
            "Hierbij de foto van mijn meterkast.",
            "Is de foto van de meterkast goed aangekomen?"],
        en=["I sent a photo of the meter cupboard.", "Here is the photo of my fuse box."],
        replies_nl=["Dank u, de foto is goed ontvangen. De monteur neemt hem mee in de "
                    "voorbereiding."],
        replies_en=["Thank you, we received the photo. The technician will use it to prepare."],
        off=15),
    "subsidy": dict(
        share=5, status="new", template=None, template_share=0,
        nl=["Kan ik subsidie krijgen voor een laadpaal?",
            "Klopt het dat er subsidie is voor thuisladers?",
            "Is er een regeling of subsidie voor de laadpaal?"],
        en=["Is there a subsidy for home chargers?", "Can I get a grant for my charger?"],
        replies_nl=["Voor een laadpaal thuis is er op dit moment geen landelijke subsidie. "
                    "Sommige gemeenten hebben wel een eigen regeling."],
        replies_en=["There is currently no national subsidy for a home charger; some "
                    "municipalities have their own scheme."],
        off=20),
    "cable": dict(
        share=5, status="approved", template=None, template_share=0,
        nl=["Kan de kabel ook via de garage worden gelegd?",
            "Is het mogelijk de kabel door de kruipruimte te leggen?",
            "Hoe loopt de kabel van de meterkast naar de laadpaal?"],
        en=["Can the cable go through the garage?", "How will the cable be routed?"],
        replies_nl=["Dat kan, de monteur bekijkt ter plekke de beste route voor de kabel."],
        replies_en=["Yes, the technician will look for the best cable route on site."],
        off=20),
    "phases": dict(
        share=4, status="approved", template=None, template_share=0,
        nl=["Moet de meterkast worden aangepast voor drie fasen?",
            "Heb ik een 3-fase aansluiting nodig?",
            "Is mijn meterkast geschikt voor een 11 kW laadpaal?"],
        en=["Do I need a three-phase connection?", "Is my fuse box fit for an 11 kW charger?"],
        replies_nl=["Voor 11 kW is een 3-fase aansluiting nodig. De monteur controleert uw "
                    "meterkast bij de installatie."],
        replies_en=["An 11 kW charger needs a three-phase connection; the technician checks "
                    "your fuse box."],
        off=20),
    "payment": dict(
        share=3, status="quote_sent", template=None, template_share=0,
        nl=["Kan ik de betaling in termijnen doen?", "Is betalen in delen mogelijk?"],
        en=["Can I pay in instalments?"],
        replies_nl=["Betalen in termijnen is helaas niet mogelijk; u betaalt na de installatie."],
        replies_en=["Paying in instalments is not possible; you pay after the installation."],
        off=20),
    "complaint": dict(
        share=5, status="scheduled", template=("complaint", None), template_share=35,
        nl=["De monteur is niet verschenen!", "Ik ben erg ontevreden over de installatie.",
            "Niemand is gekomen terwijl ik de hele dag thuis was."],
        en=["The technician never showed up!", "I am very unhappy with the installation."],
        replies_nl=["Excuses voor het ongemak. We zoeken uit wat er is misgegaan en bellen u "
                    "vandaag nog."],
        replies_en=["We apologise. We are looking into what went wrong and will call you today."],
        off=25),
}  # fmt: skip
THANKS = dict(
    nl=["Bedankt!", "Top, dank u wel.", "Dank voor de snelle reactie!", "Prima, bedankt."],
    en=["Thanks!", "Great, thank you."],
    replies_nl=["Graag gedaan! Heeft u nog vragen, dan horen we het graag."],
    replies_en=["You are welcome! Let us know if you have any other questions."],
    off=10,
)
GREETINGS_NL = ["", "", "Hallo, ", "Goedemorgen, ", "Hoi, ", "Beste klantenservice, "]
GREETINGS_EN = ["", "Hello, ", "Hi, "]
CLOSINGS = ["", "", "", " Alvast bedankt.", " Groet, {first}", " Mvg {first}"]
OFF_SCRIPT = [
    "Ik heb het nagevraagd bij {dept}; {detail}",
    "{detail} Ik houd u op de hoogte.",
    "Goed dat u het meldt. {detail}",
]  # fmt: skip
DEPARTMENTS = ["de planning", "techniek", "de boekhouding", "onze leverancier", "de monteur"]
DETAILS = ["het onderdeel is besteld.", "we bellen u terug zodra we meer weten.",
           "de monteur neemt contact met u op.", "het ligt aan de netbeheerder.",
           "we komen op {other_date} bij u terug.", "de aanvraag staat klaar voor akkoord.",
           "er is een nieuwe laadpas onderweg.", "de software is bijgewerkt."]  # fmt: skip


@dataclass(frozen=True)
class Reply:
    agent: int
    template: str | None  # a key of TEMPLATES, sent from the template select
    text: str | None  # typed: greeting, body, sign-off


@dataclass(frozen=True)
class Exchange:
    asked_at: datetime
    question: str
    topic: str
    replied_at: datetime
    reply: Reply


@dataclass
class Conversation:
    n: int
    first: str
    last: str
    phone: str
    language: str
    channel: str  # whatsapp_business | email_outlook
    order_number: str
    order_status: str
    visit_day: date | None
    window: tuple[str, str]
    technician: str
    exchanges: list[Exchange] = field(default_factory=list)
    resolved_at: datetime | None = None
    rating: int | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def messages(self) -> int:
        return 2 * len(self.exchanges)


def _moment(conv: Conversation, sent: date, rng: random.Random, english: bool) -> str:
    day, (start, end) = conv.visit_day, conv.window
    if english:
        return f"on {WEEKDAYS_EN[day.weekday()]} {day.day} {MONTHS_EN[day.month - 1]} between " \
               f"{start} and {end}"
    short = lambda t: str(int(t[:2])) + t[2:]  # noqa: E731  "08:00" -> "8:00"
    forms = [
        f"op {WEEKDAYS_NL[day.weekday()]} {day.day} {MONTHS_NL[day.month - 1]} tussen "
        f"{short(start)} en {short(end)}",
        f"op {day:%d-%m-%Y} tussen {start} en {end}",
        f"op {day.day} {MONTHS_NL[day.month - 1]} tussen {short(start)} en {short(end)}",
    ]
    ahead = (day - sent).days
    if 1 < ahead <= 6:
        forms.append(f"{WEEKDAYS_NL[day.weekday()]} tussen {int(start[:2])} en {int(end[:2])} uur")
    if ahead == 1:
        forms.append(f"morgen tussen {short(start)} en {short(end)}")
    return rng.choice(forms)


def _reply(conv: Conversation, topic: dict, agent: int, sent: date, rng: random.Random) -> Reply:
    english = conv.language == "en"
    template = (topic.get("template") or (None, None))[1 if english else 0]
    if template and conv.channel != "whatsapp_business" and TEMPLATES[template][2] != "any":
        template = None  # an approved WhatsApp template has no e-mail form
    roll = rng.random() * 100
    if template and roll < topic["template_share"]:
        return Reply(agent, template, None)
    name, greeting, sign_off = AGENTS[agent]
    if english:
        greeting, sign_off = AGENTS_EN[0], AGENTS_EN[1].format(agent=name)
    if rng.random() * 100 < topic["off"]:
        other = sent + timedelta(days=rng.randint(2, 30))
        body = rng.choice(OFF_SCRIPT).format(dept=rng.choice(DEPARTMENTS),
                                             detail=rng.choice(DETAILS))
        body = body.format(other_date=f"{other:%d-%m}")
        body = body[:1].upper() + body[1:]
    else:
        phrasings = topic["replies_en" if english else "replies_nl"]
        preferred = agent % len(phrasings)
        choice = preferred if rng.random() < 0.8 else rng.randrange(len(phrasings))
        body = phrasings[choice].format(
            moment=_moment(conv, sent, rng, False) if conv.visit_day else "binnenkort",
            moment_en=_moment(conv, sent, rng, True) if conv.visit_day else "soon",
            tech=conv.technician, order=conv.order_number,
        )
    opening = greeting.format(first=conv.first, full=conv.full_name)
    separator = "\n\n" if conv.channel == "email_outlook" else " "
    if separator == " ":
        body = body[:1].lower() + body[1:]  # "Hoi Jan, uw bestelling …" on one line
    return Reply(agent, None, f"{opening}{separator}{body}{separator}{sign_off}")


def _question(conv: Conversation, topic: dict, rng: random.Random, first: bool) -> str:
    english = conv.language == "en"
    text = rng.choice(topic["en" if english else "nl"])
    if first:
        greeting = rng.choice(GREETINGS_EN if english else GREETINGS_NL)
        text = greeting + (text[:1].lower() + text[1:] if greeting else text)
        if not english:
            text += rng.choice(CLOSINGS).format(first=conv.first)
    return text


def generate(messages: int, *, days: int = 120, seed: int = 33,
             end: datetime | None = None) -> list[Conversation]:
    """Conversations with about ``messages`` messages over ``days`` days up to ``end``."""
    rng = random.Random(seed)
    end = end or datetime.now(timezone.utc).replace(microsecond=0)
    start = end - timedelta(days=days)
    names = list(TOPICS)
    weights = [TOPICS[name]["share"] for name in names]
    conversations, total = [], 0
    while total < messages:
        n = len(conversations)
        english = rng.random() < 0.10
        topic_name = rng.choices(names, weights)[0]
        topic = TOPICS[topic_name]
        opened = start + timedelta(seconds=rng.randrange(int((days - 3) * 86400)))
        planned = topic["status"] in ("scheduled", "completed") or rng.random() < 0.3
        conv = Conversation(
            n=n, first=rng.choice(FIRST), last=rng.choice(LAST),
            phone=f"+3161{n:07d}", language="en" if english else "nl",
            channel="whatsapp_business" if rng.random() < 0.65 else "email_outlook",
            order_number=f"CC-2026-{n + 1:05d}" if n < 99_999 else f"CC-2027-{n - 99_998:05d}",
            order_status=topic["status"],
            visit_day=(opened + timedelta(days=rng.randint(2, 20))).date() if planned else None,
            window=rng.choice(WINDOWS), technician=rng.choice(TECHNICIANS),
        )
        at = opened
        for turn in range(rng.choices([1, 2, 3], [55, 35, 10])[0]):
            if turn == 0:
                current, name = topic, topic_name
            elif rng.random() < 0.6:
                current, name = THANKS, "thanks"
            else:
                name = rng.choices(names, weights)[0]
                current = TOPICS[name]
            if name == "planning" and conv.visit_day is None:
                conv.visit_day = (at + timedelta(days=rng.randint(2, 20))).date()
            question = _question(conv, current, rng, turn == 0)
            replied = at + timedelta(minutes=rng.randint(5, 240))
            agent = rng.randrange(len(AGENTS))
            reply = _reply(conv, {**current, "template": current.get("template"),
                                  "template_share": current.get("template_share", 0)},
                           agent, replied.date(), rng)
            conv.exchanges.append(Exchange(at, question, name, replied, reply))
            at = replied + timedelta(minutes=rng.randint(30, 60 * 48))
        if rng.random() < 0.88:
            last = conv.exchanges[-1].replied_at
            conv.resolved_at = last + timedelta(minutes=rng.randint(5, 600))
            if rng.random() < 0.30:
                conv.rating = rng.choice([1, 2]) if rng.random() < 0.12 else rng.choice([3, 4, 5])
        conversations.append(conv)
        total += conv.messages
    return conversations
