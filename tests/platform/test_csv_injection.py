"""CSV exports never hand a spreadsheet a formula."""

from __future__ import annotations

import csv
import io

import pytest

from app.orders.partners.services import create_partner
from app.platform.extensions import db
from app.platform.security.spreadsheets import Figure, csv_writer

FORMULAS = ['=HYPERLINK("http://evil.example","klik")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]


@pytest.mark.parametrize("name", FORMULAS)
def test_a_partner_name_that_is_a_formula_is_written_as_text(client, auth, make_user, name):
    create_partner(name)
    db.session.commit()
    auth.login(make_user("admin").email)
    response = client.get("/partners/performance.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["partner"] for row in rows] == ["'" + name]


def test_numbers_and_formatted_figures_stay_numbers():
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(["=1+1", -1, -12.5, Figure("-3,5"), "gewoon", None])
    assert out.getvalue() == '\'=1+1,-1,-12.5,"-3,5",gewoon,\n'
