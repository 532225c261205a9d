"""`python -m fitdoctor` runs the CLI."""

from fitdoctor.cli import main

raise SystemExit(main())
