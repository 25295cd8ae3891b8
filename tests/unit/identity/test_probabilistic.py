"""Unsupervised Fellegi-Sunter matching with Splink on a synthetic Chinese/English person file."""

from __future__ import annotations

import json
import logging
from typing import Any

import pyarrow as pa
import pytest
from probabilistic_records import synthetic_records

from custodia.core.errors import ConfigurationError, ValidationError
from custodia.identity.accuracy import pairwise_scores
from custodia.identity.clusters import connected_components
from custodia.identity.probabilistic import PAIR_SCHEMA, _quiet_splink, predict_pairs, train_model
from custodia.identity.probabilistic_comparisons import splink_settings
from custodia.identity.probabilistic_spec import ProbabilisticSpec
from custodia.storage.linkage_backend import linkage_backend

SPEC = ProbabilisticSpec.model_validate(
    {
        "comparisons": [
            {"column": "name", "method": "name", "term_frequency": True},
            {"column": "birthday", "method": "date"},
            {"column": "phone", "method": "phone"},
            {"column": "email", "method": "email"},
            {"column": "city", "method": "exact", "term_frequency": True},
        ],
        "blocking_rules": [["phone"], ["birthday"], ["name"], ["email"]],
        "training_blocking_rules": [["birthday"], ["phone"]],
        "deterministic_rules": [["phone", "birthday"], ["email"]],
        "recall": 0.8,
        "match_threshold": 0.9,
        "max_pairs_for_u": 100_000,
    }
)


@pytest.fixture(scope="module")
def people() -> tuple[pa.Table, dict[str, str]]:
    return synthetic_records()


@pytest.fixture(scope="module")
def model(people: tuple[pa.Table, dict[str, str]]) -> dict[str, Any]:
    return train_model(people[0], SPEC)


@pytest.fixture(scope="module")
def pairs(people: tuple[pa.Table, dict[str, str]], model: dict[str, Any]) -> pa.Table:
    return predict_pairs(people[0], model, SPEC)


def test_the_model_is_plain_json_with_trained_parameters(model: dict[str, Any]) -> None:
    text = json.dumps(model)
    assert json.loads(text) == model
    assert 0 < model["probability_two_random_records_match"] < 0.01
    name_levels = model["comparisons"][0]["comparison_levels"]
    exact = next(level for level in name_levels if level["label_for_charts"] == "exact")
    assert exact["m_probability"] > 10 * exact["u_probability"]


def test_training_is_reproducible(people: tuple[pa.Table, dict[str, str]], model: Any) -> None:
    assert train_model(people[0], SPEC) == model


def test_pairs_are_ordered_above_the_threshold_and_explained(pairs: pa.Table) -> None:
    assert pairs.schema == PAIR_SCHEMA
    rows = pairs.to_pylist()
    assert rows
    assert all(r["left_record"] < r["right_record"] for r in rows)
    assert min(r["match_probability"] for r in rows) >= SPEC.match_threshold
    keys = {(r["left_record"], r["right_record"]) for r in rows}
    assert len(keys) == len(rows)
    evidence = json.loads(rows[0]["evidence"])
    assert list(evidence) == ["name", "birthday", "phone", "email", "city"]
    labels = {json.loads(r["evidence"])["name"] for r in rows}
    assert "exact" in labels
    assert labels <= {
        "exact",
        "Jaro-Winkler >0.92",
        "Jaro-Winkler >0.88",
        "Jaro-Winkler >0.7",
        "All other comparisons",
        "null",
    }


def test_clusters_of_the_pairs_find_the_people(
    people: tuple[pa.Table, dict[str, str]], pairs: pa.Table
) -> None:
    records, truth = people
    edges = zip(
        pairs.column("left_record").to_pylist(),
        pairs.column("right_record").to_pylist(),
        strict=True,
    )
    clusters = connected_components(records.column("record_id").to_pylist(), edges)
    scores = pairwise_scores(truth, clusters)
    assert scores.true_pairs > 300
    assert scores.precision >= 0.99
    assert scores.recall >= 0.9


def test_new_records_score_only_pairs_that_involve_them(
    people: tuple[pa.Table, dict[str, str]], model: dict[str, Any], pairs: pa.Table
) -> None:
    records = people[0]
    new = set(records.column("record_id").to_pylist()[:120])
    incremental = predict_pairs(records, model, SPEC, new_record_ids=new)
    expected = [r for r in pairs.to_pylist() if r["left_record"] in new or r["right_record"] in new]
    assert expected
    got = incremental.to_pylist()
    assert [(r["left_record"], r["right_record"], r["evidence"]) for r in got] == [
        (r["left_record"], r["right_record"], r["evidence"]) for r in expected
    ]
    probabilities = [r["match_probability"] for r in got]
    assert probabilities == pytest.approx([r["match_probability"] for r in expected])


def test_no_new_records_means_no_pairs(
    people: tuple[pa.Table, dict[str, str]], model: dict[str, Any]
) -> None:
    assert predict_pairs(people[0], model, SPEC, new_record_ids=[]).num_rows == 0


def test_a_missing_column_is_named(people: tuple[pa.Table, dict[str, str]]) -> None:
    records = people[0].drop_columns(["city"])
    with pytest.raises(ValidationError, match=r"^city: the records have no column") as caught:
        train_model(records, SPEC)
    assert caught.value.field == "city"


def test_duplicate_record_ids_are_refused(people: tuple[pa.Table, dict[str, str]]) -> None:
    records = people[0].slice(0, 5)
    twice = pa.concat_tables([records, records])
    with pytest.raises(ValidationError, match="record_id: must be unique"):
        train_model(twice, SPEC)


def test_a_model_trained_for_other_comparisons_is_refused(
    people: tuple[pa.Table, dict[str, str]], model: dict[str, Any]
) -> None:
    other = SPEC.model_copy(update={"comparisons": SPEC.comparisons[:2]})
    with pytest.raises(ValidationError, match="model: its comparisons differ"):
        predict_pairs(people[0], model, other)


def test_error_messages_never_carry_values(people: tuple[pa.Table, dict[str, str]]) -> None:
    records = people[0]
    first_name = records.column("name")[0].as_py()
    with pytest.raises(ValidationError) as caught:
        train_model(records.drop_columns(["email"]), SPEC)
    assert first_name not in str(caught.value)


def test_blank_values_count_as_missing(model: dict[str, Any]) -> None:
    blank = pa.table(
        {
            "record_id": ["a", "b"],
            "name": ["  ", "li lei"],
            "birthday": ["1990-01-02", "1990-01-02"],
            "phone": ["", ""],
            "email": [None, None],
            "city": ["sydney", "sydney"],
        }
    )
    spec = SPEC.model_copy(update={"match_threshold": 0.01})
    rows = predict_pairs(blank, model, spec).to_pylist()
    assert len(rows) == 1
    evidence = json.loads(rows[0]["evidence"])
    assert evidence["name"] == "null"
    assert evidence["phone"] == "null"
    assert evidence["birthday"] == "exact"


def test_unknown_engines_and_options_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="'oracle' is unknown"):
        linkage_backend("oracle")
    with pytest.raises(ConfigurationError, match="unknown option"):
        linkage_backend("duckdb", cores=2)
    with pytest.raises(ConfigurationError, match="SparkSession"), linkage_backend("spark"):
        pass


def test_engine_options_reach_the_engine(
    people: tuple[pa.Table, dict[str, str]], model: dict[str, Any], pairs: pa.Table
) -> None:
    options = {"threads": 1, "memory_limit": "1GB"}
    single = predict_pairs(people[0], model, SPEC, engine="duckdb", engine_options=options)
    assert single.column("left_record").to_pylist() == pairs.column("left_record").to_pylist()
    with pytest.raises(ConfigurationError, match="unknown option"):
        predict_pairs(people[0], model, SPEC, engine_options={"thread": 1})


def test_fewer_than_two_records_give_no_pairs(model: dict[str, Any]) -> None:
    one = pa.table({c: ["x"] for c in ["record_id", "name", "birthday", "phone", "email", "city"]})
    assert predict_pairs(one, model, SPEC).num_rows == 0
    assert predict_pairs(one.slice(0, 0), model, SPEC).num_rows == 0
    with pytest.raises(ValidationError, match="training needs two or more"):
        train_model(one, SPEC)


def test_capping_em_pairs_still_trains_a_usable_model(
    people: tuple[pa.Table, dict[str, str]],
) -> None:
    capped = SPEC.model_copy(update={"max_pairs_for_em": 1_000})
    model = train_model(people[0], capped)
    pairs = predict_pairs(people[0], model, capped)
    assert pairs.num_rows > 300


def test_levels_read_typos_the_way_people_make_them(model: dict[str, Any]) -> None:
    rows = {
        "record_id": ["a", "b", "c", "d"],
        "name": ["li lei", "li lei", "韩梅梅", "韩梅梅"],
        "birthday": ["1987-05-21", "1987-05-12", "1987-05-21", "1978-05-12"],
        "phone": ["+8613812345678", "+8615912345678", "+8613812345678", "+8613812345687"],
        "email": ["li@x.cn", "li@y.cn", "mm@x.cn", None],
        "city": ["上海", "上海", "北京", "北京"],
    }
    spec = SPEC.model_copy(update={"match_threshold": 1e-9})
    pairs = predict_pairs(pa.table(rows), model, spec).to_pylist()
    evidence = {(p["left_record"], p["right_record"]): json.loads(p["evidence"]) for p in pairs}
    assert evidence[("a", "b")]["birthday"] == "one typo"  # two digits swapped
    assert evidence[("a", "b")]["phone"] == "same last 8 digits"
    assert evidence[("a", "b")]["email"] == "same user name"
    assert evidence[("c", "d")]["birthday"] == "All other comparisons"
    assert evidence[("c", "d")]["phone"] == "one typo"
    assert evidence[("c", "d")]["email"] == "null"
    assert evidence[("c", "d")]["name"] == "exact"


def test_swapped_columns_are_a_level_of_their_own() -> None:
    spec = ProbabilisticSpec.model_validate(
        {
            "comparisons": [
                {"column": "given", "method": "name", "swapped_with": "surname"},
                {"column": "surname", "method": "name", "swapped_with": "given"},
                {"column": "birthday", "method": "date"},
            ],
            "blocking_rules": [["birthday"]],
            "training_blocking_rules": [["birthday"]],
            "deterministic_rules": [["birthday"]],
            "match_threshold": 1e-9,
        }
    )
    rows = {
        "record_id": ["a", "b", "c"],
        "given": ["anika", "spicer", "anika"],
        "surname": ["spicer", "anika", "spicer"],
        "birthday": ["1986-10-12"] * 3,
    }
    with pytest.raises(ValidationError, match=r"^recall: the deterministic rules find more"):
        train_model(pa.table(rows), spec)  # every pair is a deterministic match
    untrained = splink_settings(spec).get_settings("duckdb").as_dict()
    pairs = predict_pairs(pa.table(rows), untrained, spec).to_pylist()
    evidence = {(p["left_record"], p["right_record"]): json.loads(p["evidence"]) for p in pairs}
    assert evidence[("a", "b")]["given"] == "swapped with surname"
    assert evidence[("a", "b")]["surname"] == "swapped with given"
    assert evidence[("a", "c")]["given"] == "exact"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"training_blocking_rules": [["birthday"], ["record_id"]]}, "training_blocking_rules[1]"),
        ({"deterministic_rules": [["record_id"]]}, "deterministic_rules"),
    ],
)
def test_rules_that_find_no_pair_are_named(
    people: tuple[pa.Table, dict[str, str]], change: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError, match=r"find no pair|blocks no pair") as caught:
        train_model(people[0], SPEC.model_copy(update=change))
    assert caught.value.field == field


def test_splink_is_quiet_while_it_runs_and_its_level_comes_back(
    people: tuple[pa.Table, dict[str, str]], model: dict[str, Any]
) -> None:
    splink_logger = logging.getLogger("splink")
    splink_logger.setLevel(logging.INFO)
    try:
        with _quiet_splink():
            assert splink_logger.level == logging.ERROR
            with _quiet_splink():
                predict_pairs(people[0].slice(0, 50), model, SPEC)
            assert splink_logger.level == logging.ERROR
        assert splink_logger.level == logging.INFO
    finally:
        splink_logger.setLevel(logging.NOTSET)


def test_scoring_in_chunks_finds_exactly_the_pairs_of_one_pass(
    people: tuple[pa.Table, dict[str, str]], model: dict[str, Any], pairs: pa.Table
) -> None:
    chunked_spec = SPEC.model_copy(update={"max_pairs_per_chunk": 100})
    seen: list[tuple[int, int]] = []
    chunked = predict_pairs(
        people[0], model, chunked_spec, progress=lambda done, total: seen.append((done, total))
    )
    total = seen[-1][1]
    assert total == 9  # 722 blocked pairs: the records hashed into three groups
    assert seen[0] == (0, total) and seen[-1] == (total, total)
    assert chunked.to_pylist() == pairs.to_pylist()


def test_chunk_count_keeps_each_chunk_under_the_budget() -> None:
    from custodia.identity.probabilistic import chunk_count

    assert chunk_count(0, 1_000) == 1
    assert chunk_count(1_000, 1_000) == 1
    assert chunk_count(1_001, 1_000) == 2  # four chunks of about 250 pairs
    assert chunk_count(237e6, 20_000_000) == 4
