"""The integration hub (issue 7, seed 004).

``registry`` lists the providers; ``services`` creates and changes integrations,
keeps their credentials and hands out access tokens; ``oauth`` speaks the
authorization-code flow; ``routes`` is the ``/integrations`` admin page and
``api`` its JSON twin under ``/api/integrations``.
"""
