"""Flask extension singletons, bound to an app in create_app()."""
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


# Objects stay readable after commit: responses are built from them without another SELECT.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
# async_mode is forced: an installed eventlet would otherwise be picked first.
socketio = SocketIO(async_mode="gevent")
