"""Exporters: the transition system in other checkers' languages."""
