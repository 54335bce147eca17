"""Set-based bulk load for benchmarks/inbox.py: staff, channels, contacts, threads, messages.

Everything large is generated inside PostgreSQL (INSERT ... SELECT over
generate_series with random()), so 200,000 threads and 1,000,000 messages load
in a minute or two. Secondary indexes are dropped for the load and rebuilt from
their own definitions afterwards, and foreign-key triggers are skipped
(``session_replication_role = replica``): the generator hands out consistent ids.
"""

from __future__ import annotations

import contextlib
import time

import sqlalchemy as sa

from app.conversations.inbox.search import CONTACT_DOCUMENT_SQL
from app.platform.auth.services import create_user
from app.platform.extensions import db
from app.platform.models import CommunicationChannel, Team, User
from app.platform.models.enums import ChannelType, Role

AGENT_EMAIL = "agent@switchboard.test"
AGENT_PASSWORD = "demo1234"  # noqa: S105 - the documented demo password
LONG_THREAD_MARK = '{"benchmark": "long-thread"}'
TABLES = ("contacts", "communication_thread", "communication_message", "thread_reads")
TEAMS = [("customer-service", "Klantenservice"), ("tech", "Techniek"), ("sales", "Sales"),
         ("management", "Management")]
# Staff per team besides the agent (in team 1): 38 people.
TEAM_STAFF = [[Role.TEAM_LEAD] + [Role.AGENT] * n for n in (14, 10, 7)] + [
    [Role.MANAGER, Role.ADMIN, Role.AGENT]]
# In the order the thread plan numbers them (ch 1..5).
CHANNELS = [(ChannelType.EMAIL_OUTLOOK, "Klantenservice mailbox", 24),
            (ChannelType.WHATSAPP_BUSINESS, "WhatsApp Business", 4),
            (ChannelType.INTERNAL_TASK, "Interne taken", None),
            (ChannelType.INTERNAL_COMMENT, "Interne notities", None), (ChannelType.SMS, "SMS", 8)]

# Word lists, passed to the SQL below as array parameters (text() ignores unused keys).
WORDS = {
    "first": "Anouk|Daan|Sanne|Bram|Lotte|Thijs|Fleur|Lars|Iris|Ruben|Eva|Jesse|Noor|Sem|Lisa|Luuk|Femke|Milan|Emma|Stijn|Julia|Tim|Sophie|Bas|Anna|Joris|Maud|Niels|Roos|Koen|Ilse|Wouter|Marloes|Pieter|Esther|Gijs|Yara|Mohammed|Fatima|Kevin".split("|"),  # noqa: E501
    "last": "de Vries|Jansen|de Jong|Bakker|Visser|Smit|Meijer|de Boer|Mulder|de Groot|Bos|Vos|Peters|Hendriks|van Leeuwen|Dekker|Brouwer|de Wit|Dijkstra|Smits|de Graaf|van der Meer|van der Linden|Kok|Jacobs|de Haan|Vermeulen|van den Berg|van Dijk|Schouten|Willems|Hoekstra|Koster|Verhoeven|Prins|Blom|Huisman|Peeters|Kuipers|van Veen|Postma|Timmermans|Maas|Verbeek|Boersma|Yilmaz|El Amrani|Kramer|Scholten|Wijnands".split("|"),  # noqa: E501
    "domains": "gmail.com|hotmail.com|ziggo.nl|kpnmail.nl|outlook.com|xs4all.nl|live.nl|planet.nl".split("|"),  # noqa: E501
    # "thread_type:subject" for customer channels; internal ones use "subject_notes".
    "subject_pairs": "installation_coordination:Planning installatie laadpaal|installation_coordination:Afspraak monteur verzetten|installation_coordination:Vraag over de installatiedatum|technical_issue:Laadpaal laadt niet meer|technical_issue:Storing na stroomuitval|technical_issue:Laadpas wordt niet herkend|technical_issue:App geeft foutmelding bij het laden|customer_support:Vraag over mijn factuur|customer_support:Wijziging adresgegevens|customer_support:Status van mijn bestelling|customer_support:Bevestiging ontvangen?|sales_inquiry:Offerte aanvraag thuislader|sales_inquiry:Prijs voor twee laadpunten|sales_inquiry:Zakelijke laadoplossing voor ons pand|complaint:Klacht over de installatie|complaint:Monteur is niet verschenen|partner_inquiry:Doorgestuurde aanvraag van dealer|partner_inquiry:Levering onderdelen partner".split("|"),  # noqa: E501
    "subject_notes": "Materiaal bestellen voor installatie|Terugbellen klant over planning|Factuur controleren|Schouwrapport nalopen|Voorraad laadkabels aanvullen|Escalatie bespreken in teamoverleg".split("|"),  # noqa: E501
    "greet": "Goedemorgen,|Goedemiddag,|Hallo,|Beste klantenservice,|Hoi,|Geachte heer/mevrouw,|Dag,".split("|"),  # noqa: E501
    "asks": "Mijn laadpaal geeft een rood lampje en laadt niet.|Wanneer komt de monteur langs voor de installatie?|Ik heb de factuur ontvangen maar het bedrag klopt niet.|Kunnen we de afspraak een week later plannen?|De laadpas wordt niet herkend door de laadpaal.|Ik wil graag een offerte voor een thuislader.|Is er al nieuws over de levering van de laadpaal?|De app laat zien dat de laadpaal offline is.|Moet de meterkast worden aangepast voor drie fasen?|Hoe lang duurt de installatie ongeveer?|Ik heb een foto van de meterkast bijgevoegd.|Kan de kabel ook via de garage worden gelegd?|Na de stroomstoring werkt de laadpaal niet meer.|Ik ben morgen de hele dag thuis.|Graag een bevestiging van de afspraak per mail.|Wij zijn een VvE en willen laadpunten in de parkeergarage.|De monteur heeft de aardlekschakelaar vervangen maar het probleem blijft.|Mijn auto laadt maar met 3,7 kW.|Ik wil de betaling graag in termijnen doen.|Klopt het dat ik subsidie kan krijgen?".split("|"),  # noqa: E501
    "replies": "Bedankt voor uw bericht, we kijken er direct naar.|De monteur komt donderdag tussen 8:00 en 12:00 uur.|We hebben de factuur gecorrigeerd en opnieuw verstuurd.|Kunt u een foto van de meterkast sturen?|Wilt u de laadpaal even herstarten via de hoofdschakelaar?|De offerte is als bijlage meegestuurd.|We hebben een nieuwe laadpas voor u aangevraagd.|De afspraak is verzet naar volgende week dinsdag.|De software van de laadpaal is op afstand bijgewerkt.|Uw bestelling is verzonden en wordt morgen geleverd.|We nemen contact op met de netbeheerder.|Voor drie fasen moet de meterkast worden aangepast.|De storing is opgelost, de laadpaal laadt weer normaal.|We plannen een monteur in om de laadpaal te controleren.|Excuses voor het ongemak, we lossen dit zo snel mogelijk op.".split("|"),  # noqa: E501
    "notes": "Klant teruggebeld, geen gehoor.|Onderdeel besteld bij de leverancier.|Let op: klant is ontevreden, graag voorrang.|Monteur gevraagd om foto's van de situatie.|Creditnota aangemaakt in de boekhouding.|Planning akkoord, in de agenda gezet.|Doorgezet naar techniek voor diagnose.|Klant wil alleen per WhatsApp contact.".split("|"),  # noqa: E501
    "closings": "Met vriendelijke groet|Groeten|Alvast bedankt|Bvd|Mvg|Dank je wel!|Fijne dag".split("|"),  # noqa: E501
    # Words that show up rarely (roughly 1 message in 1,500 each): realistic search misses.
    "rare": "warmtepompboiler|thuisbatterij|overspanningsbeveiliging|kabelgoot|graafwerk|parkeerkelder|bliksemafleider|glasvezelkast|kruipruimte|carport|zekeringkast|fasebalans|piekbelasting|terugleverkosten|energielabel|subsidieaanvraag|leasemaatschappij|bedrijfswagen|laadstrategie|dynamisch-tarief".split("|"),  # noqa: E501
    # The word lists as array parameters of the SQL below (text() ignores unused keys).
}
_PAIRS = [pair.split(":") for pair in WORDS.pop("subject_pairs")]
WORDS["types"], WORDS["subjects"] = [t for t, _ in _PAIRS], [s for _, s in _PAIRS]


@contextlib.contextmanager
def phase(label: str):
    """Print how long one load step took."""
    started = time.perf_counter()
    yield
    print(f"  load: {label:<38} {time.perf_counter() - started:6.1f} s", flush=True)


def create_staff_and_channels() -> dict:
    """Four teams, 38 staff (the agent through create_user) and five channels, via the ORM."""
    teams = [Team(name=name, slug=slug) for slug, name in TEAMS]
    db.session.add_all(teams)
    db.session.flush()
    agent = create_user(
        AGENT_EMAIL, "Anouk de Vries", Role.AGENT, AGENT_PASSWORD, team_id=teams[0].id
    )
    members: list[tuple[int, User]] = [(1, agent)]
    for team_no, roles in enumerate(TEAM_STAFF, start=1):
        for role in roles:
            n = len(members)
            members.append((team_no, User(
                email=f"staff{n}@switchboard.test", role=role, team_id=teams[team_no - 1].id,
                name=f"{WORDS['first'][n % 40]} {WORDS['last'][(n * 7) % 50]}",
                password_hash=agent.password_hash,  # the same demo password for everyone
            )))
    channels = [CommunicationChannel(channel_type=kind, channel_name=name, response_sla_hours=sla)
                for kind, name, sla in CHANNELS]
    db.session.add_all([user for _, user in members[1:]] + channels)
    db.session.flush()
    # Team number, number within the team, id: the plan picks assignees by the first two.
    rows = {"team": [t for t, _ in members], "id": [u.id for _, u in members],
            "k": [sum(t == n for n, _ in members[: i + 1]) for i, (t, _) in enumerate(members)]}
    staff = {"teams": [t.id for t in teams], "channels": [c.id for c in channels], "users": rows}
    db.session.commit()
    return staff


def bulk_load(staff: dict, threads: int, messages: int, contacts: int, long_thread: int) -> None:
    """Load contacts, threads and messages in SQL on one connection (temp tables)."""
    spare = messages - long_thread
    per_thread = spare // (threads - 1)
    if per_thread < 1:
        raise SystemExit("--messages must leave at least one message per thread")
    with db.engine.connect() as conn:
        run = conn.exec_driver_sql
        for setting in ("synchronous_commit = off", "work_mem = '512MB'",
                        "maintenance_work_mem = '1GB'", "session_replication_role = replica"):
            run(f"SET {setting}")
        run("SELECT setseed(0.2026)")
        indexes = conn.execute(sa.text(
            "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = 'public' "
            "AND tablename IN :tables AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        ).bindparams(sa.bindparam("tables", expanding=True)), {"tables": list(TABLES)}).all()
        for name, _ in indexes:
            run(f'DROP INDEX "{name}"')
        conn.execute(sa.text(
            "CREATE TEMP TABLE bench_user AS SELECT * FROM unnest(CAST(:team AS int[]), "
            "CAST(:k AS int[]), CAST(:id AS uuid[])) AS u(team_no, k, id)"
        ), staff["users"])
        params = {
            **WORDS, "n": contacts, "threads": threads, "contacts": contacts,
            "long": long_thread, "spare": spare, "np": threads - 1,
            "dmax": min(3, per_thread - 1), "teams": staff["teams"], "channels": staff["channels"],
        }
        with phase(f"contacts ({contacts:,})"):
            conn.execute(sa.text(CONTACTS_SQL), params)
        with phase(f"thread plan ({threads:,})"):
            conn.execute(sa.text(PLAN_SQL), params)
        with phase(f"messages ({messages:,})"):
            conn.execute(sa.text(MESSAGES_SQL), params)
        with phase("threads + urgency + search_vector"):
            conn.execute(sa.text(THREADS_SQL), {"mark": LONG_THREAD_MARK})
        with phase("thread_reads: the agent has seen half their team's threads"):
            conn.execute(sa.text(READS_SQL))
        with phase(f"rebuild {len(indexes)} secondary indexes"):
            for _, definition in indexes:
                run(definition)
        conn.commit()  # one transaction: a failed load leaves no table without its indexes
    autocommit = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    with phase("VACUUM ANALYZE"), autocommit as conn:
        for table in TABLES + ("users", "teams", "communication_channel"):
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {table}")


# Contact n has id md5('contact-n'), so the thread plan can point at it without a lookup.
CONTACTS_SQL = """
INSERT INTO contacts (id, contact_type, first_name, last_name, display_name, email, phone,
  whatsapp_profile_name, is_primary, preferred_channel, locale, metadata, created_at, updated_at)
SELECT CAST(md5('contact-' || n) AS uuid), 'person', f, l, f || ' ' || l,
  CASE WHEN n % 7 <> 0 THEN lower(left(f, 1) || '.' || replace(l, ' ', '')) || (n % 997)
       || '@' || (CAST(:domains AS text[]))[1 + n % 8] END,
  CASE WHEN n % 11 = 0 THEN NULL
       WHEN n % 6 = 0 THEN '+31' || (ARRAY['10','20','30','40','50','70'])[1 + n % 5]
            || lpad(((n::bigint * 7919) % 10000000)::text, 7, '0')
       ELSE '+316' || lpad(((n::bigint * 7919 + 1234567) % 100000000)::text, 8, '0') END,
  CASE WHEN n % 11 <> 0 AND n % 6 <> 0 THEN f END, true,
  CASE WHEN n % 3 = 0 THEN 'whatsapp' ELSE 'email' END, 'nl', '{}',
  now() - (n % 700) * interval '1 day', now() - (n % 700) * interval '1 day'
FROM (SELECT n, (CAST(:first AS text[]))[1 + (n * 7) % 40] AS f,
             (CAST(:last AS text[]))[1 + (n * 13 + n / 40) % 50] AS l
      FROM generate_series(1, :n) AS n) s
"""


def _pick(words: str, fraction: str) -> str:
    """SQL picking an entry of the array parameter ``:words`` at ``fraction`` (0..1)."""
    return f"(CAST(:{words} AS text[]))[1 + floor({fraction} * cardinality(CAST(:{words} AS text[])))::int]"  # noqa: E501


# power(random(), 2) favours the first entries of a list: common phrases stay common.
_COMMON = "power(random(), 2)"

# ch: 1 email, 2 WhatsApp, 3 task, 4 comment, 5 SMS. Thread 1 is the long thread (open, the
# agent's); the rest share :spare messages in pairs (e+d, e-d): exact total, 1..8 each.
PLAN_SQL = f"""
CREATE TEMP TABLE bench_plan AS
WITH r AS (
  SELECT g, g - 1 AS i, random() AS r_ch, random() AS r_st, random() AS r_team,
         random() AS r_user, random() AS r_pri, random() AS r_age, random() AS r_due,
         random() AS r_contact, random() AS r_subj, random() AS r_step
  FROM generate_series(1, :threads) AS g
), s AS (
  SELECT r.*,
    CASE WHEN g = 1 OR r_ch < .45 THEN 1 WHEN r_ch < .80 THEN 2 WHEN r_ch < .90 THEN 3
         WHEN r_ch < .95 THEN 4 ELSE 5 END AS ch,
    CASE WHEN g = 1 OR r_st < .18 THEN 'open' WHEN r_st < .28 THEN 'in_progress'
         WHEN r_st < .36 THEN 'waiting_customer' WHEN r_st < .38 THEN 'waiting_internal'
         WHEN r_st < .40 THEN 'escalated' WHEN r_st < .75 THEN 'resolved' ELSE 'closed' END
      AS status,
    CASE WHEN g = 1 OR r_team < .45 THEN 1 WHEN r_team < .70 THEN 2 WHEN r_team < .85 THEN 3
         WHEN r_team < .92 THEN 4 END AS team_no,
    CASE WHEN g = 1 OR r_ch < .80 OR r_ch >= .95
         THEN 1 + floor(power(r_contact, 1.3) * :contacts)::int END AS cn,
    CASE WHEN g = 1 THEN :long ELSE
      CAST(i * CAST(:spare AS bigint) / :np - (i - 1) * CAST(:spare AS bigint) / :np AS int)
      + CASE WHEN i = :np AND :np % 2 = 1 THEN 0
             ELSE (CASE WHEN i % 2 = 1 THEN 1 ELSE -1 END)
                  * (abs(hashint4((i + 1) / 2)) % (:dmax + 1))
        END END AS c
  FROM r
), t AS (
  SELECT s.*, CAST(md5('contact-' || cn) AS uuid) AS contact_id, u.id AS user_id,
    (CAST(:first AS text[]))[1 + (cn * 7) % 40] AS first_name,
    CASE WHEN g = 1 THEN now() - interval '20 minutes'
         WHEN status IN ('resolved', 'closed')
         THEN now() - interval '1 day' - r_age * interval '364 days'
         ELSE now() - r_age * r_age * interval '45 days' END AS last_at,
    CASE WHEN g = 1 THEN interval '4 hours'
         ELSE interval '5 minutes' + r_step * r_step * interval '2 days' END AS step,
    CASE WHEN g = 1 THEN now() + interval '2 hours'
         WHEN status IN ('open', 'in_progress', 'escalated', 'waiting_internal')
         THEN now() + (r_due * 66 - 18) * interval '1 hour' END AS due
  FROM s
  LEFT JOIN (SELECT team_no, count(*) AS size FROM bench_user GROUP BY team_no) ts
    ON ts.team_no = s.team_no
  LEFT JOIN bench_user u ON u.team_no = s.team_no AND u.k = CASE WHEN g = 1 THEN 1
    WHEN r_user < .88 THEN 1 + floor(r_user / .88 * ts.size)::int END
)
SELECT g, gen_random_uuid() AS id, ch, (CAST(:channels AS uuid[]))[ch] AS channel_id, status,
  (CAST(:teams AS uuid[]))[team_no] AS team_id, c, contact_id, first_name, user_id,
  last_at, step, due, last_at - (c - 1) * step AS created,
  CASE WHEN r_pri < .10 THEN 'low' WHEN r_pri < .70 THEN 'normal' WHEN r_pri < .90 THEN 'high'
       WHEN r_pri < .98 THEN 'urgent' ELSE 'critical' END AS priority,
  CASE WHEN ch IN (3, 4) THEN 'internal_task' ELSE {_pick("types", "r_subj")} END AS thread_type,
  CASE WHEN ch IN (3, 4) THEN {_pick("subject_notes", "r_subj")}
       ELSE {_pick("subjects", "r_subj")} END
  || CASE WHEN g % 5 < 3 THEN ' (order CC-' || (20000 + (g::bigint * 7919) % 80000) || ')'
          ELSE '' END
    AS subject
FROM t;
"""

MESSAGES_SQL = f"""
INSERT INTO communication_message (id, thread_id, channel_id, message_type, sender_user_id,
  sender_contact_id, sender_external, recipient_external, subject, message_content, attachments,
  external_message_id, delivery_status, sent_at, delivered_at, read_at, metadata, created_at,
  updated_at)
SELECT gen_random_uuid(), id, channel_id, mtype,
  CASE WHEN mtype <> 'incoming' THEN user_id END, CASE WHEN mtype = 'incoming' THEN contact_id END,
  '{{}}', '{{}}', CASE WHEN ch = 1 THEN CASE WHEN k > 1 THEN 'RE: ' ELSE '' END || subject END,
  CASE mtype
    WHEN 'incoming' THEN {_pick("greet", "random()")}
      || ' ' || {_pick("asks", _COMMON)}
      || CASE WHEN ch <> 2 THEN ' ' || {_pick("asks", "random()")} ELSE '' END
    WHEN 'outgoing' THEN 'Beste ' || coalesce(first_name, 'klant') || ', '
      || {_pick("replies", _COMMON)} || ' ' || {_pick("replies", "random()")}
    ELSE {_pick("notes", "random()")} || ' ' || {_pick("replies", _COMMON)} END
  || CASE WHEN r_rare < .013 THEN ' Het gaat om de ' || {_pick("rare", "random()")} || '.'
          WHEN r_rare < .03 THEN ' Serienummer ZP'
            || lpad((abs(hashint4(g * 1000 + k)) % 10000000)::text, 7, '0') || '.'
          WHEN r_rare < .12 AND subject LIKE '%(order CC-%'
            THEN ' Ordernummer ' || substring(subject from 'CC-[0-9]+') || '.'
          ELSE '' END
  || CASE WHEN mtype = 'internal_note' THEN ''
          ELSE ' ' || {_pick("closings", "random()")} END,
  '[]', CASE WHEN ch IN (1, 2, 5) AND mtype <> 'internal_note' THEN 'bench-' || g || '-' || k END,
  CASE WHEN mtype <> 'outgoing' THEN 'delivered' WHEN r_ds < .60 THEN 'read'
       WHEN r_ds < .90 THEN 'delivered' WHEN r_ds < .97 THEN 'sent' ELSE 'failed' END,
  CASE WHEN mtype = 'outgoing' THEN at END,
  CASE WHEN mtype = 'outgoing' AND r_ds < .90 THEN at + interval '3 seconds' END,
  CASE WHEN mtype = 'outgoing' AND r_ds < .60 THEN at + interval '20 minutes' END,
  '{{}}', at, at
FROM (
  SELECT p.*, k, p.last_at - (p.c - k) * p.step AS at, random() AS r_rare, random() AS r_ds,
    CASE WHEN p.ch IN (3, 4) THEN 'internal_note' WHEN k = 1 THEN 'incoming'
         WHEN r_type < .45 THEN 'incoming' WHEN r_type < .88 THEN 'outgoing'
         ELSE 'internal_note' END AS mtype
  FROM bench_plan p
  CROSS JOIN LATERAL (SELECT k, random() AS r_type FROM generate_series(1, p.c) AS k) ks
) m
ORDER BY at;
"""

# Unread: the agent (bench_user k = 1) opened a random half of their team's threads
# after the last message, the rest have customer messages they have not seen.
READS_SQL = """
INSERT INTO thread_reads (id, user_id, thread_id, last_read_at, created_at, updated_at)
SELECT gen_random_uuid(), u.id, t.id, t.last_message_at, t.last_message_at, t.last_message_at
FROM communication_thread t JOIN bench_user u ON u.k = 1 AND u.team_no = 1
JOIN teams tm ON tm.id = t.assigned_team_id AND tm.slug = 'customer-service'
WHERE random() < .5;
"""

# Urgency as app.platform.models.urgency ranks it (internal channels 3 and 4 after customers);
# the search document as the app builds it.
THREADS_SQL = """
INSERT INTO communication_thread (id, thread_subject, thread_type, priority, status, channel_id,
  contact_id, assigned_team_id, assigned_to_user_id, last_message_at, last_message_preview,
  response_due_at, first_response_at, resolved_at, sla_paused_at, sla_paused_seconds, sla_stage,
  tags, external_references, lock_version, created_at, updated_at, urgency_bucket,
  urgency_score, search_vector, last_customer_message_at)
SELECT p.id, p.subject, p.thread_type, p.priority, p.status, p.channel_id, p.contact_id,
  p.team_id, p.user_id, p.last_at, left(m.last_body, 280), p.due,
  CASE WHEN p.c > 1 THEN p.created + p.step END,
  CASE WHEN p.status IN ('resolved', 'closed') THEN p.last_at END,
  CASE WHEN p.status = 'waiting_customer' THEN p.last_at END, 0,
  CASE WHEN p.due < now() THEN 1 ELSE 0 END, '[]',
  CASE WHEN p.g = 1 THEN CAST(:mark AS jsonb) ELSE '{}' END, 1, p.created, p.last_at,
  CASE WHEN p.status IN ('resolved', 'closed') THEN 3 WHEN p.due IS NULL THEN 2
       WHEN p.ch IN (3, 4) THEN 1 ELSE 0 END,
  CASE WHEN p.status NOT IN ('resolved', 'closed') AND p.due IS NOT NULL
       THEN CAST(EXTRACT(EPOCH FROM p.due) AS BIGINT)
       ELSE -CAST(EXTRACT(EPOCH FROM p.last_at) AS BIGINT) END,
  to_tsvector('dutch', regexp_replace(
    coalesce(p.subject, '') || ' ' || """ + CONTACT_DOCUMENT_SQL + """ || ' ' ||
    coalesce(m.body, ''), '-(?=\\d)', ' ', 'g')), m.last_in
FROM bench_plan p
LEFT JOIN contacts c ON c.id = p.contact_id
LEFT JOIN (
  SELECT thread_id, string_agg(message_content, ' ' ORDER BY created_at) AS body,
         (array_agg(message_content ORDER BY created_at DESC))[1] AS last_body,
         max(created_at) FILTER (WHERE message_type = 'incoming') AS last_in
  FROM communication_message GROUP BY thread_id
) m ON m.thread_id = p.id
ORDER BY p.created;
"""
