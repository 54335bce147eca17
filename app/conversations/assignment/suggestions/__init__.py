"""Team suggestions: a classifier trained on our own closed conversations
suggests the team and skills for a new one, and can route it by itself.

- :mod:`.text` turns a conversation into what the classifier reads;
- :mod:`.samples` reads the closed conversations it learns from;
- :mod:`.training` fits and measures it on the last weeks (the 6-hourly job);
- :mod:`.classifier` keeps the newest model loaded in each process;
- :mod:`.settings` is the admin's switch and threshold;
- :mod:`.suggesting` suggests, auto-routes and follows a suggestion by hand;
- :mod:`.outcomes` and :mod:`.listeners` record what became of each suggestion;
- :mod:`.admin` and :mod:`.routes` are the admin section and the agent's panel.

scikit-learn is imported by :mod:`.training` only (the job); routing unpickles.
"""

from app.conversations.assignment.suggestions.settings import (
    InvalidSettings,
    Settings,
    parse_threshold,
    routing_settings,
    save_settings,
)
from app.conversations.assignment.suggestions.suggesting import (
    NothingToFollow,
    note_rules_choice,
    open_suggestion,
    route_by_suggestion,
    send_to_suggested_team,
    suggest_team,
)
from app.platform.models import RoutingSuggestion

__all__ = [
    "InvalidSettings",
    "NothingToFollow",
    "RoutingSuggestion",
    "Settings",
    "note_rules_choice",
    "open_suggestion",
    "parse_threshold",
    "route_by_suggestion",
    "routing_settings",
    "save_settings",
    "send_to_suggested_team",
    "suggest_team",
]
