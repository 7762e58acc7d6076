"""gunicorn's settings for PeerPath (read from the working directory by default).

Everything else comes from the command line (see Procfile).
"""

import gc


def post_worker_init(worker):
    # Once the app is loaded, its modules, settings and URL patterns live as long as the
    # worker: freezing them keeps the garbage collector from walking them on every request.
    gc.freeze()
