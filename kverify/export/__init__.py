"""Exports of check results and models: JUnit XML, SARIF 2.1.0, JSON summary, Graphviz DOT,
and the transition system in Promela for a second opinion from SPIN.

Pure functions from results (and the transition systems they came from) to text.
"""
