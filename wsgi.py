"""Entry point: `python wsgi.py` serves StoreLink with gevent (HTTP + WebSocket) on 127.0.0.1:5000."""
from gevent import monkey

monkey.patch_all()  # must run before anything else imports socket, ssl or threading

import os  # noqa: E402

from app import create_app  # noqa: E402
from app.demo.commands import prepare_database  # noqa: E402
from app.extensions import socketio  # noqa: E402
from app.infra.http_server import HttpLimits, handler_class  # noqa: E402
from app.jobs import start_background_jobs  # noqa: E402

app = create_app()


def main() -> None:
    prepare_database(app)
    start_background_jobs(app)
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    app.logger.info("StoreLink serving on http://%s:%d", host, port)
    access_log = os.environ.get("ACCESS_LOG", "0") == "1"
    socketio.run(app, host=host, port=port, log_output=access_log, handler_class=handler_class(access_log, HttpLimits.from_config(app.config)))


if __name__ == "__main__":
    main()
