"""One module per remedy. Each defines `ID`, `KINDS` (the findings it treats) and
`apply(raw, finding) -> str | None`, which edits the spec dict in place and returns a
one-line description of the change, or None when it cannot change anything more.
"""
