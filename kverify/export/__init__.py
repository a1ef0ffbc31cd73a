"""Machine-readable reports of check results for CI: JUnit XML, SARIF 2.1.0, JSON summary.

Pure functions from results (and the transition systems they came from) to text.
"""
