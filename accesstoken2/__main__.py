"""``python -m accesstoken2``: the same command line as the ``accesstoken2`` script."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
