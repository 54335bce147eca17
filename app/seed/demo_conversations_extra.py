"""More demo conversations: invoices, complaints, partners, status updates, SMS, internal."""

from __future__ import annotations

from app.platform.models.enums import TaskType, ThreadType
from app.seed.demo_conversations import OFFERTE, PLANNING, STORING, Scenario, Topic

FACTUUR = Scenario(
    thread_type=ThreadType.CUSTOMER_SUPPORT,
    topics=(
        Topic(
            "Factuur klopt niet",
            "Op de factuur voor order {order_number} staan 15 meter extra kabel, maar de "
            "monteur heeft er maar 5 gebruikt. Kunnen jullie dit corrigeren?",
            (
                "Dank voor uw bericht. Ik heb het opleverrapport erbij gepakt en u heeft gelijk. "
                "Ik laat een creditnota opmaken voor de 10 meter te veel ({cable_credit}).",
                "De creditnota is verstuurd; het bedrag wordt binnen 5 werkdagen teruggestort.",
            ),
            ("Dank u. Wanneer kan ik de creditnota verwachten?", "Ontvangen, dank!"),
            ("completed",),
        ),
        Topic(
            "Betalingsherinnering terwijl al betaald",
            "Ik heb de factuur van {amount} al betaald, maar kreeg vandaag een "
            "betalingsherinnering. Hoe kan dat?",
            (
                "Excuses voor de verwarring. Uw betaling is op {past_date} binnengekomen "
                "en kruiste "
                "de herinnering. U hoeft niets meer te doen.",
            ),
            ("Ok, fijn dat het opgehelderd is.",),
            ("completed",),
        ),
        Topic(
            "Factuur op naam van werkgever",
            "Kan ik de factuur op naam van mijn werkgever laten zetten? Die vergoedt de laadpaal.",
            (
                "Dat kan. Wilt u de bedrijfsnaam, het adres en eventueel het kostenplaatsnummer "
                "doorgeven?",
                "De factuur is aangepast en opnieuw verstuurd naar {email}.",
            ),
            (
                "Bedrijfsnaam is Van Leeuwen Advies B.V., Stationsplein 4, 3511 ED Utrecht.",
                "Dank u, dat is snel geregeld.",
            ),
        ),
        Topic(
            "Status van mijn bestelling",
            "Wat is de status van mijn bestelling {order_number}? Ik heb al een tijdje niets "
            "gehoord.",
            (
                "Uw bestelling {order_number} heeft de status '{status}'. Ik vraag bij de planning "
                "na wat de volgende stap is en kom er vandaag op terug.",
                "De planning neemt uiterlijk morgen contact met u op.",
            ),
            ("Dank, ik wacht het af.", "Prima."),
            ("approved", "scheduled", "on_hold"),
        ),
        Topic(
            "Gespecificeerde factuur nodig",
            "Voor mijn werkgever heb ik een gespecificeerde factuur nodig met de laadpaal en de "
            "installatie apart. Kunnen jullie die sturen?",
            ("Natuurlijk. Ik heb de gespecificeerde factuur zojuist naar {email} gestuurd.",),
            ("Binnen, precies wat ik nodig had.",),
            ("completed",),
        ),
    ),
    replies=(
        "Ik heb het doorgezet naar onze financiële administratie; u hoort binnen twee "
        "werkdagen van ons.",
    ),
    followups=("Ok, ik hoor het graag.", "Is er al nieuws?"),
    closings=(
        "Ik heb alles voor u geregeld. Mocht u nog vragen hebben, dan hoor ik het graag.",
        "Graag gedaan, fijne dag!",
    ),
    notes=(
        "Creditnota van {cable_credit} ter goedkeuring bij Marieke neergelegd.",
        "Betaling gevonden in de boekhouding, herinnering handmatig stopgezet.",
        "Factuur nogmaals naast het opleverrapport gelegd; aantallen kloppen nu.",
    ),
    tags=("factuur",),
    order_statuses=("completed", "scheduled", "approved"),
)

KLACHT = Scenario(
    thread_type=ThreadType.COMPLAINT,
    topics=(
        Topic(
            "Monteur niet verschenen",
            "Vandaag zou de monteur tussen 8 en 12 komen. Ik heb de hele ochtend vrij genomen, "
            "maar er is niemand gekomen en er is ook niet gebeld. Dit is erg teleurstellend.",
            (
                "Wat vervelend, en terecht dat u hierover klaagt. Onze excuses: door een fout in "
                "de planning had de monteur een verkeerd adres. Ik heb {future_date} voor u "
                "vrijgehouden.",
                "Als tegemoetkoming bieden we u {compensation} korting op de installatie aan.",
            ),
            (
                "Die datum past, maar ik hoop dat het dan wel goed gaat.",
                "Dat waardeer ik, akkoord.",
            ),
            ("scheduled",),
        ),
        Topic(
            "Schade aan gevel na installatie",
            "Na de installatie zit er een flinke kras in de gevel en ligt de bestrating er "
            "scheef bij. Ik verwacht dat dit hersteld wordt.",
            (
                "Wat vervelend. Kunt u foto's sturen van de schade? Dan bekijken we direct hoe we "
                "dit oplossen.",
                "Dank u voor de foto's. We sturen {technician} op {future_date} langs om de gevel "
                "en de bestrating te herstellen, op onze kosten.",
            ),
            ("Hierbij de foto's van de gevel en de tegels.", "Prima, ik ben dan thuis."),
            ("completed",),
        ),
        Topic(
            "Al twee weken geen reactie",
            "Ik wacht al twee weken op een reactie op mijn mail over order {order_number}. Zo "
            "ga je toch niet met klanten om?",
            (
                "Excuses voor het uitblijven van een reactie. Ik heb uw dossier nu zelf in "
                "behandeling en bel u vandaag nog.",
                "Zoals telefonisch besproken is de aanpassing van uw factuur verwerkt. Nogmaals "
                "excuses voor de lange wachttijd.",
            ),
            (
                "Dank voor de reactie. Ik wacht uw telefoontje af.",
                "Ok, dan is het voor mij afgerond.",
            ),
        ),
        Topic(
            "Ontevreden over afwerking",
            "De kabel is over de muur gelegd in een lelijke witte goot, terwijl afgesproken was "
            "dat hij weggewerkt zou worden.",
            (
                "U heeft gelijk, in de offerte staat dat de kabel wordt weggewerkt. We komen dit "
                "kosteloos aanpassen. Past {future_date}?",
                "Genoteerd. {technician} komt op {future_date} om de kabel alsnog weg te werken.",
            ),
            ("Ja, dat is goed.", "Dank u."),
            ("completed",),
        ),
    ),
    replies=(
        "Ik begrijp uw frustratie. Ik heb uw klacht met voorrang doorgezet naar onze teamleider.",
    ),
    followups=("Ik hoor graag snel van jullie.", "Dank voor de reactie."),
    closings=(
        "Fijn dat het naar tevredenheid is opgelost. Nogmaals excuses voor het ongemak.",
        "De tegemoetkoming is verwerkt in de eindfactuur. Dank voor uw geduld en begrip.",
    ),
    notes=(
        "Monteur had een verkeerd adres in de app (huisnummertoevoeging ontbrak). Gecorrigeerd.",
        "Escalatie naar Marieke: klant overweegt een review op Trustpilot.",
        "Compensatie tot € 100 mag klantenservice zelf toekennen; daarboven akkoord manager.",
    ),
    tags=("klacht",),
    order_statuses=("completed", "cancelled", "on_hold"),
    teams=(("customer-service", 4), ("management", 1)),
)

PARTNER = Scenario(
    thread_type=ThreadType.PARTNER_INQUIRY,
    topics=(
        Topic(
            "Status order {partner_order_id}",
            "Goedemiddag, onze klant {customer} vraagt naar de status van order "
            "{partner_order_id}. In ons portaal staat die nog op 'ontvangen'. Kunnen jullie een "
            "update geven?",
            (
                "Order {partner_order_id} is bij ons bekend als {order_number} en heeft de status "
                "'{status}'. Ik heb de statusupdate opnieuw naar uw webhook gestuurd.",
            ),
            ("Dank, de update is nu zichtbaar in ons portaal.",),
            ("new", "quote_sent", "approved"),
        ),
        Topic(
            "Wijziging installatieadres {partner_order_id}",
            "Voor order {partner_order_id} is het installatieadres gewijzigd naar {street}, "
            "{city}. Willen jullie dit aanpassen in jullie systeem?",
            (
                "Het adres is aangepast en opnieuw gevalideerd via PDOK. De planning blijft "
                "ongewijzigd.",
            ),
            ("Top, dan informeren wij de klant.",),
        ),
        Topic(
            "Gemiste statusupdate {partner_order_id}",
            "Wij hebben de callback voor {partner_order_id} gemist. Kunnen jullie de laatste "
            "status opnieuw versturen?",
            (
                "Onze eerste aflevering kreeg een 503 van uw endpoint. Ik heb de callback opnieuw "
                "verstuurd; die is nu met 200 bevestigd.",
            ),
            ("Ontvangen, dank. Wij hadden even een storing aan onze kant.",),
        ),
        Topic(
            "Uitgestelde installatie {partner_order_id}",
            "Klant {customer} geeft aan dat de installatie is uitgesteld. Wat is de reden en wat "
            "is de nieuwe datum?",
            (
                "De installatie is verplaatst omdat de netbeheerder de aansluiting nog moet "
                "verzwaren. Verwachte nieuwe datum: {future_date}.",
            ),
            ("Kunnen jullie de nieuwe datum ook via de webhook doorgeven?",),
            ("on_hold", "scheduled"),
        ),
    ),
    replies=("Zeker, dat gaat automatisch zodra de planning de datum bevestigt.",),
    followups=("Prima, dank.",),
    closings=(
        "Graag gedaan. Laat het weten als er nog andere orders zijn waarover vragen zijn.",
        "Prima, dan sluiten we deze vraag.",
    ),
    notes=(
        "Webhook van {partner} gaf een 503 bij de eerste poging; de tweede poging is gelukt.",
        "Partner gebruikt nog een oude SKU, mapping controleren.",
    ),
    tags=("partner",),
    order_statuses=("new", "quote_sent", "approved", "scheduled", "completed", "on_hold"),
)

# The opener is the approved WhatsApp template "order_status_update", filled in.
STATUS_UPDATE = Scenario(
    thread_type=ThreadType.CUSTOMER_SUPPORT,
    topics=(
        Topic(
            "Update over uw bestelling {order_number}",
            "Beste {first_name}, de status van uw bestelling {order_number} is gewijzigd naar: "
            "{status}. Heeft u vragen? Reageer gerust op dit bericht. Groet, ChargeCars",
            (
                "De planning neemt deze week contact met u op om een datum af te spreken.",
                "De monteur komt op {future_date}, {time_window}. U krijgt de dag ervoor een "
                "herinnering.",
            ),
            # Two dozen customers answer this update: each in their own words.
            (
                (
                    "Dank je! Weten jullie al wanneer de monteur komt?",
                    "Top, bedankt. Is er al een datum voor de installatie?",
                    "Fijn! Wanneer kan ik de monteur verwachten?",
                    "Dank voor het bericht. Hoe lang duurt het nog voordat jullie komen?",
                    "Mooi zo. Kunnen jullie al zeggen in welke week de installatie is?",
                    "Bedankt! Wij zijn de komende twee weken alleen op vrijdag thuis.",
                    "Ok, is het mogelijk om de installatie op een woensdag te doen?",
                    "Prima. Moet ik zelf nog iets regelen voor de aansluiting?",
                ),
                (
                    "Hoe laat komt de monteur ongeveer?",
                    "Weet u al of het 's ochtends of 's middags wordt?",
                    "Kan de monteur even bellen als hij onderweg is?",
                    "Is er een tijdvak bekend? Dan neem ik vrij van mijn werk.",
                    "Komt er één monteur of twee? Dan zorg ik voor een parkeerplek.",
                ),
            ),
        ),
    ),
    replies=("Dat hoort u binnenkort van de planning.",),
    followups=("Super, fijn om te horen.", "👍"),
    closings=("Graag gedaan, fijne dag!",),
    notes=("Klant reageert snel via WhatsApp, voorkeurskanaal aangepast.",),
    tags=("statusupdate",),
    order_statuses=("approved", "scheduled", "quote_sent"),
    outbound_first=True,
)

SMS_AFSPRAAK = Scenario(
    thread_type=ThreadType.INSTALLATION_COORDINATION,
    topics=(
        Topic(
            "SMS: afspraakbevestiging installatie",
            "ChargeCars: op {future_date} installeert {technician} uw laadpaal "
            "({time_window}). Bevestig met JA of bel 030-2001234 om te verzetten.",
            ("Dank voor uw bevestiging. Tot {future_date}!",),
            (("JA", "Ja", "JA, tot dan", "Ja prima"),),
        ),
        Topic(
            "SMS: herinnering installatie",
            "ChargeCars: herinnering - morgen installeert {technician} uw laadpaal "
            "({time_window}).",
            (
                "We hebben de afspraak naar de middag verplaatst. {technician} komt tussen 13:00 "
                "en 17:00.",
            ),
            (
                (
                    "Kan het ook na 13:00? Ik ben 's ochtends weg.",
                    "Liever in de middag, kan dat?",
                    "Ik ben pas vanaf 12 uur thuis, lukt dat?",
                    "Kan het een uur later? Ik breng eerst de kinderen weg.",
                ),
            ),
        ),
        Topic(
            "SMS: monteur onderweg",
            "ChargeCars: uw monteur {technician} is onderweg en is over ca. 30 minuten bij u.",
            ("Prima, tot zo!",),
            (("Ok dank je, ik ben thuis.", "Prima, de oprit is vrij.", "Top, tot zo."),),
        ),
    ),
    replies=("Dank voor uw bericht.",),
    followups=("Ok",),
    closings=("Dank voor uw bericht. Tot ziens!",),
    notes=("Klant reageert niet op bellen, wel op sms.",),
    tags=("planning", "sms"),
    order_statuses=("scheduled",),
    teams=(("tech", 1),),
    outbound_first=True,
)

# Internal topics: the note that opens them, the answer, and the kind of task they are.
INTERNAL_TOPICS = [
    (
        Topic(
            "Meterkastfoto's beoordelen – {customer}",
            "Klant heeft foto's van de meterkast gestuurd. Kan iemand van techniek beoordelen of "
            "er een extra groep nodig is?",
            ("Bekeken: er is een vrije plek in de groepenkast, geen extra groep nodig.",),
        ),
        TaskType.RESEARCH,
    ),
    (
        Topic(
            "Netbeheerder: verzwaring aanvragen voor {customer}",
            "Voor {order_number} moet de aansluiting naar 3x25A. Aanvraag bij de netbeheerder "
            "indienen; de klantgegevens staan in de order.",
            ("Aanvraag ingediend, referentie NB-{reference}. Doorlooptijd ca. 4 weken.",),
        ),
        TaskType.OTHER,
    ),
    (
        Topic(
            "Materiaal bestellen voor {order_number}",
            "Voor {order_number} hebben we een staander en 12 m kabel nodig. Graag bestellen bij "
            "de groothandel.",
            ("Besteld, levering {future_date} op de zaak.",),
        ),
        TaskType.OTHER,
    ),
    (
        Topic(
            "Terugbellen {customer} over offerte",
            "{customer} vroeg om teruggebeld te worden over de offerte. Voorkeur na 17:00.",
            ("Gebeld, klant denkt er nog over na. Opnieuw contact over een week.",),
        ),
        TaskType.CALLBACK,
    ),
    (
        Topic(
            "Opleverrapport controleren {order_number}",
            "Het opleverrapport van {order_number} mist foto's van de meterkast. Graag aanvullen "
            "voor facturatie.",
            ("Foto's toegevoegd aan het dossier.",),
        ),
        TaskType.DOCUMENTATION,
    ),
    (
        Topic(
            "Creditnota goedkeuren {order_number}",
            "Graag akkoord op een creditnota van {cable_credit} voor {order_number} (te veel "
            "kabel gefactureerd).",
            ("Akkoord, mag verstuurd worden.",),
        ),
        TaskType.APPROVAL_REQUEST,
    ),
    (
        Topic(
            "Garantieclaim indienen – {customer}",
            "De {charger} van {customer} heeft een defecte RCD-module. Garantieclaim bij de "
            "fabrikant indienen en een vervangend exemplaar aanvragen.",
            ("Claim ingediend, vervangend exemplaar komt {future_date}.",),
        ),
        TaskType.FOLLOW_UP,
    ),
    (
        Topic(
            "Servicebezoek inplannen bij {customer}",
            "Storing op afstand niet op te lossen. Graag een servicebezoek inplannen, liefst "
            "deze week.",
            ("Ingepland op {future_date} bij {technician}.",),
        ),
        TaskType.SCHEDULE_VISIT,
    ),
]
_INTERNAL_QUESTIONS = (
    "Kun je dit ook in de order zetten?",
    "Dank! Ik laat het de klant weten.",
    "Kun je de klant even bijpraten?",
)
_INTERNAL_ANSWERS = ("Staat erin.", "Is gebeurd, klant is op de hoogte.", "Doe ik vandaag nog.")
_INTERNAL_CLOSINGS = ("Top, dan zet ik deze op afgerond.", "Afgerond, dank allemaal.")


def _internal(thread_type: ThreadType, tags: tuple[str, ...]) -> Scenario:
    return Scenario(
        thread_type=thread_type,
        topics=tuple(topic for topic, _ in INTERNAL_TOPICS),
        replies=_INTERNAL_ANSWERS,
        followups=_INTERNAL_QUESTIONS,
        closings=_INTERNAL_CLOSINGS,
        notes=_INTERNAL_QUESTIONS,
        tags=tags,
        order_statuses=("approved", "scheduled", "completed", "on_hold", "quote_sent"),
        teams=(("tech", 2), ("customer-service", 2), ("management", 1)),
    )


SCENARIOS = {
    "storing": STORING,
    "planning": PLANNING,
    "offerte": OFFERTE,
    "factuur": FACTUUR,
    "klacht": KLACHT,
    "partner": PARTNER,
    "status": STATUS_UPDATE,
    "sms": SMS_AFSPRAAK,
    "taak": _internal(ThreadType.INTERNAL_TASK, ("intern", "taak")),
    "overleg": _internal(ThreadType.PROJECT_DISCUSSION, ("intern", "overleg")),
}

# Extra tasks that come out of customer conversations: type and title.
FOLLOW_UP_TASKS = [
    (TaskType.CALLBACK, "Terugbellen: {customer} ({subject})"),
    (TaskType.FOLLOW_UP, "Opvolgen: {subject}"),
    (TaskType.SCHEDULE_VISIT, "Servicebezoek inplannen bij {customer}"),
    (TaskType.SEND_EMAIL, "Opleverrapport mailen naar {customer}"),
    (TaskType.ESCALATE, "Escalatie beoordelen: {subject}"),
    (TaskType.APPROVAL_REQUEST, "Akkoord compensatie voor {order_number}"),
    (TaskType.DOCUMENTATION, "Installatiefoto's toevoegen aan dossier {order_number}"),
]
TASK_COMPLETION_NOTES = [
    "Klant gebeld en alles doorgenomen.",
    "Afgehandeld, zie notitie in de thread.",
    "Gedaan; klant heeft bevestiging per e-mail ontvangen.",
]

# Dutch words for our order statuses, as customers read them.
STATUS_LABELS = {
    "new": "ontvangen",
    "quote_sent": "offerte verstuurd",
    "approved": "akkoord",
    "scheduled": "ingepland",
    "in_progress": "in uitvoering",
    "completed": "afgerond",
    "on_hold": "in de wacht",
    "cancelled": "geannuleerd",
}
