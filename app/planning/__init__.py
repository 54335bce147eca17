"""Planning visits: the order page's plan, the week board, technicians' hours."""

from app.features import Feature

FEATURE = Feature(blueprints=("app.planning.routes:bp",))
