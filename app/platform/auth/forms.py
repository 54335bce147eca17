from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from app.platform.auth.passwords import MIN_PASSWORD_LENGTH

# A shape check only: staff addresses may use reserved domains (demo accounts
# are @switchboard.test), which strict validators reject.
EMAIL_SHAPE = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter an e-mail address."))


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), EMAIL_SHAPE, Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in"))


class SecondFactorForm(FlaskForm):
    """A 6-digit authenticator code or a recovery code (xxxx-xxxx-xxxx-xxxx)."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(message=_l("Enter the code.")), Length(max=40)],
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=200)]
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=_l("Use at least %(n)s characters.", n=MIN_PASSWORD_LENGTH),
            ),
        ],
    )
    repeat_password = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(),
            EqualTo("new_password", message=_l("The two new passwords differ.")),
        ],
    )


class PreferencesForm(FlaskForm):
    """The interface language ("" leaves it to the browser) and the layout density.

    The services check the values (:func:`app.platform.auth.account.choose_language`,
    :func:`~app.platform.auth.account.choose_density`), so a forged one is named, not ignored."""

    language = SelectField(_l("Language"), validate_choice=False)
    density = SelectField(_l("Layout density"), validate_choice=False)
