"""What the data looks like read out: the commissioner's compliance report and the JSON of a case.

`queries` groups the projections in SQL, `report` turns that into the `ComplianceReport` every export
format and the TUI's compliance screen show, and `views` shapes a case and the case list as JSON (`show`,
`cases`). Reads never write.
"""
