"""``python -m model.sndlib``: run :func:`model.sndlib.cli.main`."""

import logging
import sys

from model.sndlib.cli import main


def _as_main(record: logging.LogRecord) -> bool:
    """Name log records ``__main__``, as they were named when the importer was a single
    module run with ``-m`` (``INFO __main__: wrote ...``)."""
    record.name = "__main__"
    return True


if __name__ == "__main__":
    logging.getLogger("model.sndlib").addFilter(_as_main)
    sys.exit(main())
