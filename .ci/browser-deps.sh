#!/usr/bin/env bash
# What the HTML report, graph and Promela tests need beyond the Python packages: a headless
# Chromium with its WebDriver (tests/test_html.py drives it through selenium), Graphviz
# (tests/test_graph.py runs `dot` on the generated graph) and SPIN (tests/test_promela.py runs
# the exported model through spin, gcc and pan).  The Python packages come with `pip install -e .[test]`.
# Idempotent; run as root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v dot >/dev/null \
        || ! command -v spin >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver graphviz spin >/dev/null
fi
