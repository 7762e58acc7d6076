"""gunicorn's settings for PeerPath (read from the working directory by default).

Everything else comes from the command line (see Procfile).
"""

import gc

# The longest request line (method, path with query string, and HTTP version) PeerPath
# accepts, in bytes: gunicorn's own default, written here so that it is a decision. A longer one
# is answered 414 URI Too Long before it reaches Django. No PeerPath address comes near it:
# the longest are list filters with a search term.
limit_request_line = 4094


def on_starting(server):
    """gunicorn has no setting for its `Server: gunicorn` response header, which tells every
    client what serves PeerPath. Its HTTP response writes the header in `default_headers()`;
    the master drops that one line before it forks the workers, so no response carries it.
    (Error pages gunicorn writes itself, such as the 414, carry no Server header anyway.)"""
    hide_server_header()


def hide_server_header():
    from gunicorn.http.wsgi import Response

    if getattr(Response.default_headers, "hides_server_header", False):
        return
    default_headers = Response.default_headers

    def without_server_header(response):
        return [
            line for line in default_headers(response) if not line.lower().startswith("server:")
        ]

    without_server_header.hides_server_header = True
    Response.default_headers = without_server_header


def post_worker_init(worker):
    # Once the app is loaded, its modules, settings and URL patterns live as long as the
    # worker: freezing them keeps the garbage collector from walking them on every request.
    gc.freeze()
