"""Deadline alerts, from the rules that pick them to the pass that sends them.

`rules` decides which are due (pure), `outbox` records each before it is sent, `dispatch` runs one pass
that decides and sends, `scheduler` is the `watch` process, and `notify` is the notifier interface that
`notifiers/` implements.
"""
