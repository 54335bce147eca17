"""Dutch conversation material for demo threads: faults, planning and quotes.

A thread follows one topic: its subject, the opening message, then the topic's
own replies and follow-ups in turn; when a long thread runs out of those, the
scenario's general pools take over. Texts use ``{placeholders}`` filled per
thread (see ``demo_messages.thread_facts``).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.platform.models.enums import ThreadType

# One turn of a topic: its text, or the ways different customers (or agents) put it,
# one of which each thread draws.
Turn = str | tuple[str, ...]


@dataclass(frozen=True)
class Topic:
    subject: str
    opener: str
    replies: tuple[Turn, ...] = ()
    followups: tuple[Turn, ...] = ()
    # Order statuses this topic makes sense for; empty = the scenario's.
    order_statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    thread_type: ThreadType
    topics: tuple[Topic, ...]
    replies: tuple[str, ...]
    followups: tuple[str, ...]
    closings: tuple[str, ...]
    notes: tuple[str, ...]
    tags: tuple[str, ...]
    # Statuses of the order the thread is about.
    order_statuses: tuple[str, ...] = ()
    # Teams it is routed to, with weights.
    teams: tuple[tuple[str, int], ...] = (("customer-service", 1),)
    # We write first (reminders, status updates) instead of the customer.
    outbound_first: bool = False


STORING = Scenario(
    thread_type=ThreadType.TECHNICAL_ISSUE,
    topics=(
        Topic(
            "Laadpaal werkt niet na installatie",
            "Sinds de installatie van {past_date} laadt mijn auto niet. De {charger} knippert "
            "rood en de app geeft foutcode F2. Is er bij de installatie iets verkeerd "
            "aangesloten? Ordernummer {order_number}.",
            (
                "Vervelend dat de laadpaal niet werkt. Kunt u een foto sturen van de ledring en "
                "van de groepenkast? Dan kijkt onze technische dienst direct mee.",
                "Dank voor de foto's. De laadpaal staat in een foutmodus na een spanningsdip. Ik "
                "heb hem op afstand gereset; wilt u het laden opnieuw proberen?",
            ),
            (
                "Hierbij de foto's. Het lampje knippert drie keer rood, dan even niets.",
                "Hij laadt weer! Dank voor de snelle hulp.",
            ),
        ),
        Topic(
            "Laden stopt halverwege de nacht",
            "Goedemorgen, vannacht is het laden halverwege gestopt. De ledring van de laadpaal "
            "brandt oranje. Auto is een Tesla Model Y. Kunnen jullie even meekijken?",
            (
                "Ik heb de logbestanden van uw laadpaal uitgelezen: om 03:12 is de sessie gestopt "
                "door een communicatiefout met de auto. Staat er in de auto een laadschema "
                "ingesteld?",
                "Dat verklaart het: het laadschema van de auto en de tijdsinstelling van de "
                "laadpaal zaten elkaar in de weg. Als u het schema in de auto uitzet, regelt de "
                "laadpaal het verder.",
            ),
            (
                "Er staat inderdaad een laadschema in de auto van 01:00 tot 06:00.",
                "Aangepast, vannacht ging het goed. Bedankt!",
            ),
        ),
        Topic(
            "Aardlekschakelaar slaat af tijdens het laden",
            "Elke keer als ik de auto aansluit slaat de aardlekschakelaar in de meterkast af. "
            "Dat gebeurde voor de installatie nooit. Graag snel hulp, ik moet morgen naar mijn "
            "werk.",
            (
                "Dat klinkt als een probleem met de aardlekbeveiliging. Wilt u de laadpaal "
                "voorlopig niet gebruiken? Ik plan zo snel mogelijk een monteur in.",
                "{technician} komt op {future_date} langs om de aardlekschakelaar te vervangen "
                "door een type B. Dit valt onder de garantie, er zijn geen kosten voor u.",
            ),
            (
                "Ok, ik laad tot die tijd bij de buren. Hoe snel kan er iemand komen?",
                "Die datum is goed, ik ben thuis.",
            ),
        ),
        Topic(
            "Laadpaal offline in de app",
            "De laadpaal staat in de app op offline. Wifi werkt gewoon en ik heb hem al een "
            "keer herstart via de meterkast. Ordernummer is {order_number}.",
            (
                "Heeft u onlangs een nieuwe router of een nieuw wifi-wachtwoord gekregen? De "
                "laadpaal onthoudt alleen het oude netwerk.",
                "Dan moet de laadpaal opnieuw aan het netwerk gekoppeld worden. Ik stuur u de "
                "handleiding; het duurt ongeveer vijf minuten.",
            ),
            (
                "Ja, vorige week is Ziggo langs geweest met een nieuw modem.",
                "Gelukt, hij staat weer online!",
            ),
        ),
        Topic(
            "Laden gaat erg langzaam",
            "Mijn auto laadt maar met 3,7 kW terwijl er een 11 kW laadpaal is geïnstalleerd. "
            "Klopt dat wel? Ik heb een 3-fase aansluiting.",
            (
                "Het laadvermogen wordt begrensd door de instelling voor load balancing; die staat "
                "nu voorzichtig op 6 A. Weet u hoe zwaar uw aansluiting is (bijv. 3x25A)?",
                "Dank u. {technician} heeft de begrenzing op afstand aangepast naar 16 A per fase. "
                "U zou nu met 11 kW moeten laden.",
            ),
            ("Op de meter staat 3x25A.", "Inderdaad, nu laadt hij met 11 kW. Top!"),
        ),
        Topic(
            "Laadkabel zit vast in de laadpaal",
            "Hallo, de laadkabel zit vast in de laadpaal en ik krijg hem er niet uit. De auto is "
            "ontgrendeld. Wat nu?",
            (
                "Geen zorgen, dat lossen we op. Ik ontgrendel de kabel nu op afstand. Wilt u het "
                "over een minuut nog eens proberen?",
                "Fijn! Dit gebeurt soms als de stroom wegvalt tijdens het laden. Na de "
                "firmware-update van vandaag zou het niet meer moeten voorkomen.",
            ),
            ("Hij is los, dank je wel!", "Ok, goed om te weten."),
        ),
        Topic(
            "Laadpaal maakt zoemend geluid",
            "Sinds de monteur gisteren is geweest maakt de laadpaal een zoemend geluid en wordt "
            "hij warm aan de onderkant. Is er iets verkeerd aangesloten? Ik durf hem nu niet "
            "meer te gebruiken.",
            (
                "Goed dat u dit meldt. Wilt u de groep van de laadpaal in de meterkast "
                "uitschakelen en hem niet gebruiken tot een monteur ernaar gekeken heeft?",
                "{technician} komt op {future_date} langs. Hij controleert de aansluitklemmen en "
                "vervangt zo nodig de laadpaal.",
            ),
            ("De groep staat uit. Kan er snel iemand komen?", "Prima, dank voor de snelle actie."),
        ),
    ),
    replies=(
        "Dank voor uw geduld. Ik heb het doorgezet naar onze technische dienst; u hoort vandaag "
        "nog van ons.",
        "Ik heb uw melding bijgewerkt. Laat u het weten als het probleem terugkomt?",
    ),
    followups=(
        "Dank voor de snelle reactie.",
        "Ik hoor het graag.",
        "Moet ik de laadpaal ook in de app opnieuw koppelen?",
    ),
    closings=(
        "Fijn om te horen dat alles weer werkt! We sluiten deze melding. Mocht er toch nog iets "
        "zijn, reageer dan gerust op dit bericht.",
        "Graag gedaan! Ik zet de melding op opgelost. Goede ritten gewenst!",
    ),
    notes=(
        "Foutcode E12 in de logs, lijkt een defecte RCD-module. Fabrikant support gemaild.",
        "Klant heeft al twee keer gebeld. Graag vandaag nog terugkoppeling geven.",
        "Op afstand uitgelezen: fase L2 valt weg. Fysiek bezoek nodig, {technician} ingelicht.",
        "Garantiegeval: installatie is minder dan 3 maanden geleden opgeleverd.",
    ),
    tags=("storing",),
    order_statuses=("completed",),
    teams=(("tech", 3), ("customer-service", 2)),
)

PLANNING = Scenario(
    thread_type=ThreadType.INSTALLATION_COORDINATION,
    topics=(
        Topic(
            "Wanneer wordt mijn laadpaal geïnstalleerd?",
            "Hallo, ik heb de offerte getekend. Wanneer kunnen jullie de laadpaal komen "
            "installeren? Het liefst op een vrijdag.",
            (
                "Dank voor uw akkoord! De eerste vrijdag met ruimte is {friday}, {time_window}. "
                "Past dat?",
                "De afspraak staat. {technician} belt een half uur van tevoren.",
            ),
            ("Ja, dat past prima.", "Top, tot dan!"),
            ("approved",),
        ),
        Topic(
            "Nieuwe datum voor installatie",
            "Op {future_date} komt de monteur, maar ik moet die dag onverwacht werken. Kunnen "
            "we een andere datum prikken?",
            (
                "Geen probleem. Ik kan u {alt_date} aanbieden, {time_window}. Komt dat beter uit?",
                "De afspraak is verzet naar {alt_date}. U ontvangt een nieuwe bevestiging per "
                "e-mail.",
            ),
            ("Ochtend zou beter uitkomen, kan dat ook?", "Prima, dank u."),
            ("scheduled",),
        ),
        Topic(
            "Voorbereiding installatie laadpaal",
            "Moet ik nog iets voorbereiden voor de installatie? De meterkast zit in de "
            "trapkast, is dat bereikbaar genoeg?",
            (
                "Een trapkast is prima. Zorg dat de meterkast vrij toegankelijk is en dat de plek "
                "van de laadpaal bereikbaar is. De stroom is ongeveer een half uur uit.",
                "Dat mag gewoon blijven staan; de monteur legt beschermfolie neer.",
            ),
            ("Ok. En de fietsen in de gang, moeten die weg?", "Duidelijk, dank!"),
        ),
        Topic(
            "Bevestiging installatieafspraak",
            "Ik heb nog geen bevestiging ontvangen van de installatiedatum voor order "
            "{order_number}. Klopt het dat het {future_date} wordt?",
            (
                "Klopt, de installatie staat op {future_date}, {time_window}. Ik heb de "
                "bevestiging opnieuw naar {email} gestuurd.",
            ),
            ("Binnen, dank u wel!",),
            ("scheduled",),
        ),
        Topic(
            "Hoe lang duurt de installatie?",
            "Hoe lang duurt de installatie ongeveer? Dan weet ik of ik een dag vrij moet nemen.",
            (
                "Gemiddeld duurt de installatie 3 tot 4 uur. Het is fijn als u aan het begin en "
                "aan het eind even aanwezig bent voor de uitleg.",
            ),
            ("Dan neem ik een ochtend vrij. Dank!",),
        ),
    ),
    replies=(
        "Ik heb het nagevraagd bij de planning en kom er vandaag bij u op terug.",
        "Dank voor het doorgeven, ik heb het in uw dossier gezet.",
    ),
    followups=(
        "Moet ik de auto ergens anders parkeren die dag?",
        "Prima, ik zorg dat de oprit vrij is.",
    ),
    closings=(
        "Graag gedaan, dan is alles rond. Fijne dag!",
        "Top, dan zien we elkaar op de afgesproken dag.",
    ),
    notes=(
        "Klant wil graag in de ochtend; {technician} heeft {future_date} nog ruimte.",
        "Netbeheerder heeft de verzwaring nog niet uitgevoerd, planning hangt daarvan af.",
        "Staander nodig, materiaal bestellen vóór de installatiedag.",
    ),
    tags=("planning",),
    order_statuses=("approved", "scheduled"),
    teams=(("tech", 1), ("customer-service", 1)),
)

OFFERTE = Scenario(
    thread_type=ThreadType.SALES_INQUIRY,
    topics=(
        Topic(
            "Offerte laadpaal aanvragen",
            "Goedendag, ik wil graag een offerte voor een laadpaal bij mijn woning in {city}. "
            "We krijgen volgende maand een elektrische auto.",
            (
                "Dank voor uw aanvraag! Om een goede offerte te maken ontvangen we graag een foto "
                "van uw meterkast en van de plek waar de laadpaal moet komen.",
                "Dank voor de foto's. De offerte staat klaar: totaal {amount} incl. btw. U kunt "
                "deze digitaal ondertekenen via de link in de e-mail.",
            ),
            ("Hierbij de foto's van de meterkast en de oprit.", "Ik heb de offerte getekend!"),
        ),
        Topic(
            "Vraag over offerte: extra kabel",
            "In de offerte staat 10 meter kabel inbegrepen, maar de meterkast zit aan de andere "
            "kant van het huis. Wat kost elke meter extra?",
            (
                "Elke extra meter kabel kost {cable_price} excl. btw, inclusief graafwerk onder de "
                "bestrating. Als u de afstand ongeveer weet, pas ik de offerte aan.",
                "De aangepaste offerte met 8 meter extra kabel staat klaar in uw mailbox.",
            ),
            ("Ik schat zo'n 18 meter in totaal.", "Dank, ziet er goed uit."),
        ),
        Topic(
            "Alfen of Zaptec?",
            "Wat is het verschil tussen de Alfen Eve Single en de Zaptec Go? Ik twijfel welke "
            "ik moet kiezen.",
            (
                "Beide zijn uitstekende keuzes. De Alfen heeft een MID-gecertificeerde meter voor "
                "verrekening met uw werkgever; de Zaptec Go is compacter en slim te bedienen via "
                "de app.",
                "Als uw werkgever de stroom vergoedt, raad ik de Alfen aan. Zal ik de offerte "
                "daarop aanpassen?",
            ),
            ("Mijn werkgever vergoedt de laadkosten, dus dat is handig.", "Ja graag."),
        ),
        Topic(
            "Laadpaal combineren met zonnepanelen",
            "We hebben zonnepanelen. Kan de laadpaal laden op zonne-overschot? En is load "
            "balancing nodig?",
            (
                "Ja, met de myenergi zappi kunt u volledig op zonne-overschot laden. Load "
                "balancing raden we aan; de kit met P1-module kost {lb_price} excl. btw.",
                "Ik heb een offerte gemaakt voor de zappi met load balancing: totaal {amount} "
                "incl. btw.",
            ),
            (
                "We hebben 3x25A. Is load balancing dan echt nodig?",
                "Dank, we gaan erover nadenken.",
            ),
        ),
        Topic(
            "Offerte voor twee laadpunten",
            "Voor ons huis en dat van de buren willen we samen twee laadpalen. Is daar korting "
            "op mogelijk?",
            (
                "Leuk dat u samen met de buren wilt bestellen! Bij twee installaties op dezelfde "
                "dag geven we 10% korting op de installatiekosten.",
                "Ik stuur u beiden een aparte offerte, met de korting al verwerkt.",
            ),
            ("Mooi. Kunnen jullie dan ook op dezelfde dag installeren?", "Super, dank u."),
        ),
    ),
    replies=(
        "Goede vraag! Ik zoek het voor u uit en kom er morgen op terug.",
        "De levertijd is op dit moment ongeveer twee weken na akkoord.",
    ),
    followups=("Wat is de levertijd?", "Kan de installatie nog voor het einde van de maand?"),
    closings=(
        "Dank u wel voor uw akkoord! Onze planning neemt binnen twee werkdagen contact met u op "
        "voor een installatiedatum.",
        "Graag gedaan. De offerte is 30 dagen geldig; laat het gerust weten als u nog vragen "
        "heeft.",
    ),
    notes=(
        "Meterkast is 1-fase, 3-fase-aanvraag bij netbeheerder nodig. Meerprijs meenemen.",
        "Lead via Google Ads, klant vergelijkt met een andere aanbieder. Snel opvolgen.",
        "Klant wil de factuur op naam van zijn eenmanszaak.",
    ),
    tags=("offerte",),
    order_statuses=("new", "quote_sent"),
    teams=(("sales", 1),),
)
