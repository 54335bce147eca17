"""Styles, scripts and icons at addresses that change with their content, kept a year.

``url_for("static", filename=...)`` adds ``?v=`` and the first 12 hex digits of the
file's SHA-256. An answer to the address with the file's current version may be kept
a year, unchanged (``immutable``), so a page asks again for none of the ~35 styles and
scripts it is built from; without this every page load asked for each again with a
conditional request (``no-cache``), one round trip each, which on a technician's weak
signal came to seconds, and on the server a request each. A release that changes a
file changes its address, so nobody keeps an old copy. An address without ``v``, or
with another file's version (an old page), is answered as before: ``no-cache``.

The version is worked out once per file and process, again when the file's size or
modification time changes (a developer editing a script under ``make run``).
"""

from __future__ import annotations

import hashlib
import os
import threading

from flask import Flask, request
from werkzeug.security import safe_join

KEPT_SECONDS = 365 * 24 * 3600
VERSION_LENGTH = 12


class Versions:
    """The content version of each file under one folder, worked out when first asked."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        # filename: (its path under the folder, (mtime, size) when hashed, version)
        self._known: dict[str, tuple[str, tuple[int, int], str]] = {}
        self._lock = threading.Lock()

    def of(self, filename: str) -> str | None:
        """The file's version, or None when there is no such file under the folder."""
        known = self._known.get(filename)
        if known is not None:
            path = known[0]  # a name once found safe under the folder stays so
        else:
            path = safe_join(self.folder, filename)  # a requested name may try "../"
            if path is None:
                return None
        try:
            stat = os.stat(path)
        except OSError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if known and known[1] == stamp:
            return known[2]
        with open(path, "rb") as file:
            version = hashlib.sha256(file.read()).hexdigest()[:VERSION_LENGTH]
        with self._lock:
            self._known[filename] = (path, stamp, version)
        return version


def init_app(app: Flask) -> None:
    versions = Versions(app.static_folder)
    app.extensions["static_versions"] = versions

    @app.url_defaults
    def add_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and "filename" in values:
            version = versions.of(values["filename"])
            if version:
                values["v"] = version

    def max_age(filename: str | None) -> int | None:
        # Called by send_static_file within the request for the file.
        if filename and request.args.get("v") and request.args["v"] == versions.of(filename):
            return KEPT_SECONDS
        return None  # no-cache: asked again, answered 304 when unchanged

    app.get_send_file_max_age = max_age

    @app.after_request
    def keep_unchanged(response):
        if request.endpoint == "static" and response.cache_control.max_age == KEPT_SECONDS:
            response.cache_control.immutable = True
        return response
