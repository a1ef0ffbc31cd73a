"""Result and its JSON form."""

from __future__ import annotations

import json

import ir_builder as ex

from kverify.api import check_system
from kverify.report import exit_code
from kverify.result import Result, Verdict

REQUIRED = {
    "spec",
    "variant",
    "verdict",
    "states",
    "transitions",
    "seconds",
    "properties",
    "violated",
    "trace",
}


def test_json_of_a_violation():
    data = check_system(ex.lock_order_deadlock()).to_json()
    assert set(data) >= REQUIRED
    json.dumps(data)
    assert data["verdict"] == "violated"
    assert data["violated"] == ["deadlock"]
    assert data["properties"] == {"deadlock": "violated", "model-error": "holds"}
    assert data["engine"] == "explicit-bfs"
    assert data["trace"]["steps"][0]["action"] == "spin_lock(a)"
    assert len(data["violations"]) == 1


def test_json_of_a_proof_and_of_a_limit():
    holds = check_system(ex.locked_counter()).to_json()
    assert (
        holds["verdict"] == "holds"
        and holds["trace"] is None
        and holds["violated"] == []
    )
    limited = check_system(ex.counters(2, 4), max_states=3).to_json()
    assert limited["verdict"] == "incomplete"
    assert limited["limit"] == "max-states limit 3 reached"


def test_verdict_is_a_string():
    assert Verdict.HOLDS == "holds" and str(Verdict.VIOLATED) == "violated"


def test_exit_codes():
    ok = Result("s", "reference", Verdict.HOLDS)
    bad = Result("s", "reference", Verdict.VIOLATED)
    partial = Result("s", "reference", Verdict.INCOMPLETE)
    err = Result.error("s", "reference", "boom")
    assert exit_code([ok]) == 0
    assert exit_code([ok, partial]) == 3
    assert exit_code([partial, bad]) == 1
    assert exit_code([bad, err]) == 2
