"""A generated month of installation orders and technicians across the Netherlands.

Nothing here is a customer: the places are the approximate centres of real 4-digit
postcode areas (written down from general knowledge of Dutch geography, not taken
from a register, so each is off by up to a few kilometres), and each address lies
within about 1.5 km of its area's centre. Same seed, same month.

- 20 technicians, each living in a different real town spread over the provinces,
  each trained on 2–4 charger brands; Mon–Fri 08:00–17:00, 0–3 days off each.
- 300 orders over the month, cities weighted by size; one charger brand each (5 %
  two brands, 5 % a service visit needing none); 90–240 minutes; ~10 % need two
  technicians; 5 % already planned by hand (pinned).
- The customer's wishes: 40 % any working day, 25 % mornings or afternoons only, 20 %
  two or three preferred dates, 10 % one date and a part of the day, 5 % not before a
  date. A morning is an arrival before noon (the window runs until the visit's length
  after noon); an afternoon 12:00–17:00.
- Age: each order was created some days before the month; older orders first.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import date, time, timedelta

from app.orders.planning.routing.model import Job, Pinned, Shift
from app.orders.planning.travel.estimate import EstimatedTravelTimes, great_circle_metres
from app.orders.planning.travel.places import Place, TravelMatrix

# (postcode, town, latitude, longitude, weight): approximate area centres; weight
# 3 for a large city, 2 a town, 1 a village or small town.
POSTCODES = [
    # Groningen
    ("9711", "Groningen", 53.219, 6.567, 3),
    ("9727", "Groningen-Zuid", 53.200, 6.560, 2),
    ("9601", "Hoogezand", 53.161, 6.760, 1),
    ("9901", "Appingedam", 53.321, 6.858, 1),
    ("9641", "Veendam", 53.107, 6.877, 1),
    ("9671", "Winschoten", 53.144, 7.035, 1),
    ("9351", "Leek", 53.162, 6.378, 1),
    ("9501", "Stadskanaal", 52.990, 6.950, 1),
    ("9981", "Uithuizen", 53.408, 6.671, 1),
    # Friesland
    ("8911", "Leeuwarden", 53.201, 5.799, 3),
    ("8441", "Heerenveen", 52.960, 5.920, 2),
    ("8601", "Sneek", 53.033, 5.659, 2),
    ("9201", "Drachten", 53.107, 6.099, 2),
    ("8861", "Harlingen", 53.174, 5.420, 1),
    ("9101", "Dokkum", 53.326, 5.999, 1),
    ("8501", "Joure", 52.967, 5.790, 1),
    ("8531", "Lemmer", 52.845, 5.710, 1),
    ("8701", "Bolsward", 53.064, 5.530, 1),
    # Drenthe
    ("9401", "Assen", 52.993, 6.562, 2),
    ("7811", "Emmen", 52.785, 6.897, 2),
    ("7901", "Hoogeveen", 52.724, 6.476, 2),
    ("7941", "Meppel", 52.696, 6.194, 1),
    ("7741", "Coevorden", 52.661, 6.741, 1),
    ("9411", "Beilen", 52.862, 6.512, 1),
    # Overijssel
    ("8011", "Zwolle", 52.512, 6.094, 3),
    ("7511", "Enschede", 52.221, 6.894, 3),
    ("7551", "Hengelo", 52.266, 6.793, 2),
    ("7411", "Deventer", 52.255, 6.163, 2),
    ("7601", "Almelo", 52.357, 6.662, 2),
    ("8261", "Kampen", 52.555, 5.911, 1),
    ("7571", "Oldenzaal", 52.313, 6.929, 1),
    ("7461", "Rijssen", 52.306, 6.520, 1),
    ("8101", "Raalte", 52.386, 6.275, 1),
    ("8331", "Steenwijk", 52.787, 6.118, 1),
    ("7441", "Nijverdal", 52.362, 6.464, 1),
    ("7701", "Dedemsvaart", 52.600, 6.460, 1),
    # Flevoland
    ("1315", "Almere", 52.370, 5.215, 3),
    ("8224", "Lelystad", 52.518, 5.471, 2),
    ("8302", "Emmeloord", 52.711, 5.749, 1),
    ("8251", "Dronten", 52.525, 5.718, 1),
    ("3891", "Zeewolde", 52.330, 5.541, 1),
    # Gelderland
    ("6811", "Arnhem", 51.985, 5.899, 3),
    ("6511", "Nijmegen", 51.845, 5.864, 3),
    ("7311", "Apeldoorn", 52.211, 5.969, 3),
    ("6711", "Ede", 52.040, 5.665, 2),
    ("7201", "Zutphen", 52.139, 6.196, 1),
    ("6701", "Wageningen", 51.970, 5.665, 1),
    ("3841", "Harderwijk", 52.342, 5.620, 2),
    ("7001", "Doetinchem", 51.965, 6.289, 2),
    ("4001", "Tiel", 51.887, 5.429, 1),
    ("6901", "Zevenaar", 51.930, 6.072, 1),
    ("7101", "Winterswijk", 51.972, 6.720, 1),
    ("3771", "Barneveld", 52.140, 5.585, 1),
    ("8071", "Nunspeet", 52.378, 5.785, 1),
    ("4101", "Culemborg", 51.955, 5.227, 1),
    ("6601", "Wijchen", 51.809, 5.726, 1),
    ("8161", "Epe", 52.347, 5.983, 1),
    ("7241", "Lochem", 52.160, 6.414, 1),
    ("5301", "Zaltbommel", 51.810, 5.249, 1),
    # Utrecht
    ("3511", "Utrecht", 52.092, 5.115, 3),
    ("3562", "Utrecht-Overvecht", 52.115, 5.110, 2),
    ("3811", "Amersfoort", 52.156, 5.389, 3),
    ("3431", "Nieuwegein", 52.029, 5.084, 2),
    ("3401", "IJsselstein", 52.020, 5.043, 1),
    ("3701", "Zeist", 52.089, 5.233, 2),
    ("3441", "Woerden", 52.086, 4.883, 1),
    ("3601", "Maarssen", 52.136, 5.037, 1),
    ("3901", "Veenendaal", 52.027, 5.558, 2),
    ("3741", "Baarn", 52.212, 5.287, 1),
    ("3641", "Mijdrecht", 52.207, 4.862, 1),
    ("3941", "Doorn", 52.033, 5.342, 1),
    ("3911", "Rhenen", 51.958, 5.570, 1),
    # Noord-Holland
    ("1012", "Amsterdam-Centrum", 52.373, 4.893, 3),
    ("1053", "Amsterdam-West", 52.368, 4.868, 3),
    ("1091", "Amsterdam-Oost", 52.359, 4.915, 3),
    ("1102", "Amsterdam-Zuidoost", 52.315, 4.956, 2),
    ("1031", "Amsterdam-Noord", 52.390, 4.920, 2),
    ("2011", "Haarlem", 52.381, 4.637, 3),
    ("1811", "Alkmaar", 52.632, 4.748, 2),
    ("1781", "Den Helder", 52.958, 4.760, 1),
    ("1621", "Hoorn", 52.643, 5.060, 2),
    ("1441", "Purmerend", 52.505, 4.959, 2),
    ("1501", "Zaandam", 52.439, 4.826, 2),
    ("1181", "Amstelveen", 52.303, 4.862, 2),
    ("1211", "Hilversum", 52.226, 5.176, 2),
    ("1971", "IJmuiden", 52.459, 4.612, 1),
    ("2131", "Hoofddorp", 52.303, 4.690, 2),
    ("1601", "Enkhuizen", 52.703, 5.293, 1),
    ("1741", "Schagen", 52.787, 4.799, 1),
    ("1901", "Castricum", 52.548, 4.669, 1),
    ("1431", "Aalsmeer", 52.263, 4.762, 1),
    ("1941", "Beverwijk", 52.487, 4.657, 1),
    ("1271", "Huizen", 52.300, 5.242, 1),
    # Zuid-Holland
    ("3011", "Rotterdam-Centrum", 51.920, 4.483, 3),
    ("3071", "Rotterdam-Zuid", 51.897, 4.509, 3),
    ("3051", "Rotterdam-Noord", 51.945, 4.470, 2),
    ("2511", "Den Haag", 52.078, 4.313, 3),
    ("2564", "Den Haag-Loosduinen", 52.060, 4.250, 2),
    ("2311", "Leiden", 52.160, 4.490, 3),
    ("2611", "Delft", 52.011, 4.358, 2),
    ("3311", "Dordrecht", 51.813, 4.690, 2),
    ("2801", "Gouda", 52.012, 4.711, 2),
    ("2711", "Zoetermeer", 52.060, 4.494, 2),
    ("3111", "Schiedam", 51.918, 4.399, 1),
    ("3131", "Vlaardingen", 51.912, 4.342, 1),
    ("2401", "Alphen aan den Rijn", 52.129, 4.656, 2),
    ("2201", "Noordwijk", 52.240, 4.443, 1),
    ("3201", "Spijkenisse", 51.845, 4.329, 1),
    ("2671", "Naaldwijk", 51.994, 4.208, 1),
    ("3221", "Hellevoetsluis", 51.830, 4.133, 1),
    ("4201", "Gorinchem", 51.834, 4.973, 1),
    ("2902", "Capelle aan den IJssel", 51.929, 4.578, 1),
    ("2161", "Lisse", 52.258, 4.557, 1),
    ("3351", "Papendrecht", 51.831, 4.687, 1),
    # Zeeland
    ("4331", "Middelburg", 51.499, 3.611, 1),
    ("4381", "Vlissingen", 51.443, 3.573, 1),
    ("4461", "Goes", 51.504, 3.889, 1),
    ("4531", "Terneuzen", 51.336, 3.827, 1),
    ("4301", "Zierikzee", 51.650, 3.919, 1),
    ("4561", "Hulst", 51.280, 4.053, 1),
    # Noord-Brabant
    ("5611", "Eindhoven", 51.441, 5.478, 3),
    ("5038", "Tilburg", 51.560, 5.091, 3),
    ("4811", "Breda", 51.589, 4.776, 3),
    ("5211", "'s-Hertogenbosch", 51.690, 5.303, 3),
    ("5401", "Uden", 51.660, 5.617, 1),
    ("5701", "Helmond", 51.481, 5.661, 2),
    ("4701", "Roosendaal", 51.531, 4.461, 2),
    ("4611", "Bergen op Zoom", 51.495, 4.288, 1),
    ("5341", "Oss", 51.765, 5.518, 2),
    ("5501", "Veldhoven", 51.418, 5.404, 1),
    ("5461", "Veghel", 51.617, 5.549, 1),
    ("5751", "Deurne", 51.462, 5.796, 1),
    ("4901", "Oosterhout", 51.645, 4.860, 1),
    ("5551", "Valkenswaard", 51.351, 5.459, 1),
    ("5281", "Boxtel", 51.590, 5.328, 1),
    ("5061", "Oisterwijk", 51.580, 5.189, 1),
    ("5831", "Boxmeer", 51.647, 5.947, 1),
    ("5531", "Bladel", 51.368, 5.220, 1),
    # Limburg
    ("6211", "Maastricht", 50.851, 5.691, 2),
    ("5911", "Venlo", 51.370, 6.172, 2),
    ("6041", "Roermond", 51.194, 5.987, 2),
    ("6411", "Heerlen", 50.888, 5.980, 2),
    ("6131", "Sittard", 51.000, 5.868, 1),
    ("5801", "Venray", 51.526, 5.975, 1),
    ("6001", "Weert", 51.252, 5.707, 1),
    ("6461", "Kerkrade", 50.866, 6.063, 1),
]

# Where the 20 technicians live: a town in each part of the country.
HOMES = [
    "9711", "8911", "9401", "8011", "7511", "7311", "6811", "6511", "3511", "3811",
    "1053", "1811", "2011", "2511", "3011", "3311", "4811", "5038", "5611", "6041",
]  # fmt: skip

BRANDS = ("alfen", "zaptec", "easee", "wallbox", "tesla", "abb")
# How often each brand is sold: a few brands take most of the market.
BRAND_WEIGHTS = (30, 20, 20, 12, 10, 8)
ESTIMATE = EstimatedTravelTimes()
WORKDAY = (time(8), time(17))
# A customer who asks for the morning means we arrive in the morning: the window ends
# the visit's length after noon. The afternoon is from noon to the end of the day.
MORNING, AFTERNOON = "morning", "afternoon"
# A month without public holidays, starting on a Monday.
FIRST_DAY = date(2027, 2, 1)
WEEKS = 4


def working_days(weeks: int = WEEKS) -> list[date]:
    return [
        FIRST_DAY + timedelta(days=7 * week + offset)
        for week in range(weeks)
        for offset in range(5)
    ]


def _near(rng: random.Random, postcode: tuple) -> Place:
    """An address within about 1.5 km of the area's centre."""
    _code, _town, latitude, longitude, _weight = postcode
    return Place(
        round(latitude + rng.uniform(-0.013, 0.013), 5),
        round(longitude + rng.uniform(-0.021, 0.021), 5),
    )


def technicians(rng: random.Random, days: list[date]) -> list[Shift]:
    """Every technician's shifts over ``days``, their days off left out."""
    by_code = {p[0]: p for p in POSTCODES}
    shifts = []
    for number, code in enumerate(HOMES):
        technician_id = uuid.UUID(int=number + 1)
        home = _near(rng, by_code[code])
        held = set(rng.sample(BRANDS[:3], 2))  # the common brands: most are trained on them
        held |= set(rng.sample(BRANDS, rng.randint(0, 2)))
        off = set(rng.sample(days, rng.randint(0, 3)))
        for day in days:
            if day not in off:
                shifts.append(Shift(technician_id, day, *WORKDAY, home, None, frozenset(held)))
    return shifts


def orders(rng: random.Random, days: list[date], count: int = 300) -> list[Job]:
    weights = [p[4] for p in POSTCODES]
    jobs = []
    for number in range(count):
        postcode = rng.choices(POSTCODES, weights)[0]
        duration = rng.choice(range(90, 241, 15))
        draw = rng.random()
        if draw < 0.05:
            skills = frozenset()
        elif draw < 0.10:
            skills = frozenset(rng.sample(BRANDS[:3], 2))
        else:
            skills = frozenset(rng.choices(BRANDS, BRAND_WEIGHTS))
        jobs.append(
            Job(
                key=f"ORD-{number + 1:04d}",
                place=_near(rng, postcode),
                duration_minutes=duration,
                skills=skills,
                crew_size=2 if rng.random() < 0.10 else 1,
                windows=_wishes(rng, days, duration),
                # Created 1-60 days before the month: the number of days is its age.
                priority=rng.randint(1, 60),
            )
        )
    return jobs


def _part(day: date, part: str, duration: int) -> tuple[date, time, time]:
    if part == AFTERNOON:
        return day, time(12), WORKDAY[1]
    return day, WORKDAY[0], time(*divmod(min(12 * 60 + duration, 17 * 60), 60))


def _wishes(rng: random.Random, days: list[date], duration: int) -> tuple:
    draw = rng.random()
    if draw < 0.40:
        return ()
    if draw < 0.65:
        part = rng.choice((MORNING, AFTERNOON))
        return tuple(_part(day, part, duration) for day in days)
    if draw < 0.85:
        return tuple((day, *WORKDAY) for day in sorted(rng.sample(days, rng.randint(2, 3))))
    if draw < 0.95:
        return (_part(rng.choice(days), rng.choice((MORNING, AFTERNOON)), duration),)
    first = rng.randrange(len(days))
    return tuple((day, *WORKDAY) for day in days[first:])


def _drive_minutes(a: Place, b: Place) -> float:
    return great_circle_metres(a, b) * ESTIMATE.detour_factor / (ESTIMATE.speed_kmh / 3.6) / 60 + (
        ESTIMATE.parking_minutes
    )


def pin_some(rng: random.Random, jobs: list[Job], shifts: list[Shift], share: float) -> list[Job]:
    """``share`` of the one-person jobs already planned by hand, as a planner would: on a
    skilled technician living under 55 minutes away, a day their windows allow, at 09:00
    or 13:00, so that they get there and home within their hours."""
    pinned = []
    taken: set[tuple] = set()
    for job in jobs:
        if job.crew_size == 1 and job.skills and rng.random() < share:
            days = {w[0] for w in job.windows} or {s.day for s in shifts}
            fitting = [
                s
                for s in shifts
                if s.day in days
                and job.skills <= s.skills
                and (s.technician_id, s.day) not in taken
                and _drive_minutes(s.start_place, job.place) <= 55
            ]
            if fitting:
                shift = rng.choice(fitting)
                taken.add((shift.technician_id, shift.day))
                drive = _drive_minutes(shift.start_place, job.place)
                afternoon = 13 * 60 + job.duration_minutes + drive <= 17 * 60
                start = time(13) if afternoon and rng.random() < 0.5 else time(9)
                end_minutes = start.hour * 60 + job.duration_minutes
                pin = Pinned(
                    (shift.technician_id,), shift.day, start, time(*divmod(end_minutes, 60))
                )
                job = replace(job, windows=(), pinned=pin)
        pinned.append(job)
    return pinned


def month(seed: int = 7, count: int = 300, pinned_share: float = 0.05):
    """The month's shifts and jobs."""
    rng = random.Random(seed)
    days = working_days()
    shifts = technicians(rng, days)
    jobs = pin_some(rng, orders(rng, days, count), shifts, pinned_share)
    return shifts, jobs


def week(shifts: list[Shift], jobs: list[Job], number: int = 0):
    """The shifts of one week, and the jobs that could go in it (any day, or a window
    in that week); pinned jobs of that week stay."""
    days = set(working_days()[5 * number : 5 * number + 5])
    week_shifts = [s for s in shifts if s.day in days]
    week_jobs = []
    for job in jobs:
        if job.pinned is not None:
            if job.pinned.day in days:
                week_jobs.append(job)
        elif not job.windows:
            week_jobs.append(job)
        elif any(w[0] in days for w in job.windows):
            week_jobs.append(replace(job, windows=tuple(w for w in job.windows if w[0] in days)))
    return week_shifts, week_jobs


def matrix_for(places: list[Place]) -> TravelMatrix:
    """The straight-line estimate the app falls back on (1.3 detour, 60 km/h, 5 min to
    park), as the app's travel matrix is built from it."""
    seconds, metres = ESTIMATE.matrix(places)
    return TravelMatrix(
        tuple(places),
        tuple(tuple(round(x) for x in row) for row in seconds),
        tuple(tuple(round(x) for x in row) for row in metres),
        ESTIMATE.name,
    )
