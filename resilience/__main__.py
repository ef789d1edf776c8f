"""``python -m resilience``: the same as the ``resilience`` command."""

from resilience.cli.main import main

raise SystemExit(main())
