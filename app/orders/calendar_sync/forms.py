from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField


class CalendarSettingsForm(FlaskForm):
    outlook_calendar = BooleanField(_l("Use my Outlook calendar"))
    calendar_mailbox = StringField(_l("Microsoft account (Outlook)"))


class FeedForm(FlaskForm):
    """The feed's buttons: only the CSRF token."""
