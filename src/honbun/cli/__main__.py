"""``python -m honbun.cli``: the ``honbun`` command."""

from honbun.cli import main

raise SystemExit(main())
