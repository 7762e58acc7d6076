import gc
import runpy
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def test_a_gunicorn_worker_freezes_the_loaded_app_for_the_garbage_collector():
    post_worker_init = runpy.run_path(str(CONFIG))["post_worker_init"]
    before = gc.get_freeze_count()
    try:
        post_worker_init(worker=None)
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
