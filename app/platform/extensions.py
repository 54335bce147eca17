"""Extensions, created unbound here and bound to an app in ``create_app``.

Nothing in this module connects to anything: importing it is free.
"""

from __future__ import annotations

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx

from app.platform.database import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login = LoginManager()
csrf = CSRFProtect()
htmx = Htmx()
socketio = SocketIO()
