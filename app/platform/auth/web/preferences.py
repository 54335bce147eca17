"""``/settings/preferences``: how the interface speaks to the signed-in user."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.platform.auth import account
from app.platform.auth.decorators import gate
from app.platform.auth.forms import PreferencesForm
from app.platform.auth.signin import client_address
from app.platform.extensions import db
from app.platform.i18n import LANGUAGE_NAMES, select_locale
from app.platform.security.access import ACCOUNT
from app.platform.transactions import commit

bp = Blueprint("preferences", __name__, url_prefix="/settings")

# No choice ("", stored as NULL) follows the browser. The languages themselves are
# named in their own words (LANGUAGE_NAMES), so a reader who cannot read the
# current interface still finds theirs.
AUTOMATIC = ("", _l("Automatic (browser language)"))
DENSITY_LABELS = {
    "compact": _l("Compact: more conversations and messages on the screen"),
    "comfortable": _l("Comfortable: more space around each line"),
}


def _form() -> PreferencesForm:
    form = PreferencesForm()
    form.language.choices = [AUTOMATIC, *LANGUAGE_NAMES.items()]
    form.density.choices = [(value, DENSITY_LABELS[value]) for value in account.DENSITIES]
    return form


@bp.route("/preferences", methods=["GET", "POST"])
@gate(ACCOUNT)
def edit():
    user = current_user._get_current_object()
    form = _form()
    status = 200
    if form.validate_on_submit():
        try:
            account.choose_language(user, form.language.data, client_ip=client_address())
            account.choose_density(user, form.density.data, client_ip=client_address())
        except account.AccountChangeRefused as exc:
            db.session.rollback()
            for name, message in exc.fields.items():
                form[name].errors = [message]
            status = 422
        else:
            commit()
            # Said in the language just chosen: the next page is in it too.
            with force_locale(select_locale()):
                flash(gettext("Your preferences are saved."), "info")
            return redirect(url_for("preferences.edit"))
    elif form.is_submitted():
        status = 400
    else:
        form.language.data = user.language or ""
        form.density.data = user.density
    return render_template("auth/preferences.html", form=form), status

