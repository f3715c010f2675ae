"""The student's copy of the lab: the oracle's files with each solution region blanked (``python -m exercises``)."""
