"""Round-robin among equally loaded agents, remembered in Redis.

Every web and worker process assigns threads, so the turn order cannot live in
process memory. Redis keeps, per team, a sorted set of agent -> the sequence
number of the last thread they were given (one global ``INCR`` counter, so no
process's clock matters). Among agents tied on load, the one given a thread
longest ago (or never) is next.

Callers hold the team's row lock while they decide (see
:func:`app.conversations.assignment.services.pick_agent`), so two processes never read the
same turn for the same team at once.
"""

from __future__ import annotations

import logging
import uuid

import redis

from app.platform.jobs.queues import broker

log = logging.getLogger(__name__)

SEQUENCE_KEY = "switchboard:assignment:sequence"


def _turns_key(team_id: uuid.UUID) -> str:
    return f"switchboard:assignment:last:{team_id}"


def next_in_turn(team_id: uuid.UUID, user_ids: list[uuid.UUID]) -> uuid.UUID:
    """Of tied agents, the one whose last assignment in this team is oldest."""
    ordered = sorted(user_ids, key=str)
    if len(ordered) == 1:
        return ordered[0]
    try:
        pipe = broker().connection.pipeline()
        for user_id in ordered:
            pipe.zscore(_turns_key(team_id), str(user_id))
        scores = pipe.execute()
    except redis.RedisError:
        # Without Redis the tie is broken by id: still fair over time thanks to
        # least-loaded, only the order among equals is no longer rotated.
        log.warning("round-robin state unavailable for team %s; tie broken by id", team_id)
        return ordered[0]
    never = -1.0
    return min(
        zip(ordered, scores, strict=True),
        key=lambda pair: never if pair[1] is None else float(pair[1]),
    )[0]


def record_turn(team_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Note that ``user_id`` was just given a thread of ``team_id``."""
    try:
        connection = broker().connection
        sequence = connection.incr(SEQUENCE_KEY)
        connection.zadd(_turns_key(team_id), {str(user_id): sequence})
    except redis.RedisError:
        log.warning("could not record round-robin turn of %s in team %s", user_id, team_id)
