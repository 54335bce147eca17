"""Password hashing (scrypt via Werkzeug), kept in one place."""

from __future__ import annotations

from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

MIN_PASSWORD_LENGTH = 8
# Werkzeug's scrypt at its full cost (about 0.1 s a hash here). Read at each call:
# the test suite lowers it for the thousands of users it makes (tests/conftest.py).
METHOD = "scrypt"


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    return generate_password_hash(password, method=METHOD)


def verify_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


@cache
def dummy_hash() -> str:
    """A hash to check against when the e-mail is unknown, so a wrong e-mail costs
    the same time as a wrong password and does not reveal which accounts exist.
    Made at the first sign-in, not at import: scrypt costs 0.1 s of CPU, and every
    worker, clock and CLI process imports this module without signing anyone in.
    Made with :data:`METHOD`, the cost real hashes are made with."""
    return generate_password_hash("not-a-real-password", method=METHOD)
