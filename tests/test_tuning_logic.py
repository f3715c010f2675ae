"""tune.py's pure parts: the greedy path on a stubbed objective, the report in both languages, the space file."""

import csv
import io
import json

import pytest

from tuning.greedy import config_key, greedy_search
from tuning.report import OVERFIT_GAP, analyse, importance, lab_table, results_csv, summary
from tuning.space import DEFAULT_PARAMS, OPTIONAL_PARAMS, TUNED, SpaceError, load_space

CANDIDATES = {"a": [1, 2, 3], "b": [10, 20, 30]}


def stub_objective(config):
    """Known landscape: best at a=3, b=20; a matters more."""
    return 0.5 + 0.1 * config["a"] - 0.01 * abs(config["b"] - 20)


def make_evaluate(log):
    def evaluate(configs):
        log.append([dict(c) for c in configs])
        return [stub_objective(c) for c in configs]

    return evaluate


def test_greedy_follows_the_coordinate_path():
    log = []
    result = greedy_search({"a": 1, "b": 10}, CANDIDATES, make_evaluate(log), order=["a", "b"])
    assert result.best == {"a": 3, "b": 20}
    assert result.best_value == pytest.approx(stub_objective({"a": 3, "b": 20}))
    # start; pass 1 sweeps a (a=1 cached), then b at a=3 (b=10 cached); pass 2 re-sweeps a at b=20,
    # finds nothing better, and b's sweep is all cached: the search stops
    assert log == [
        [{"a": 1, "b": 10}],
        [{"a": 2, "b": 10}, {"a": 3, "b": 10}],
        [{"a": 3, "b": 20}, {"a": 3, "b": 30}],
        [{"a": 1, "b": 20}, {"a": 2, "b": 20}],
    ]
    assert result.passes == 2 and result.evaluated == 7
    assert [step for step, _, _ in result.path] == ["start", "pass 1: a", "pass 1: b", "pass 2: a", "pass 2: b"]


def test_greedy_order_is_configurable():
    log = []
    greedy_search({"a": 1, "b": 10}, CANDIDATES, make_evaluate(log), order=["b", "a"])
    assert log[1] == [{"a": 1, "b": 20}, {"a": 1, "b": 30}]  # b is swept first, at a=1


def test_greedy_adopts_only_strict_improvements():
    flat = lambda configs: [0.5 for _ in configs]  # noqa: E731 - every configuration ties
    result = greedy_search({"a": 2, "b": 20}, CANDIDATES, flat, order=["a", "b"])
    assert result.best == {"a": 2, "b": 20} and result.passes == 1


def test_greedy_needs_a_second_pass_when_parameters_interact():
    def interacting(configs):  # b's best value depends on a
        return [
            1.0
            if (c["a"], c["b"]) == (3, 30)
            else 0.9
            if (c["a"], c["b"]) == (2, 30)
            else 0.8
            if c["a"] == 2
            else 0.1 * c["a"]
            for c in configs
        ]

    result = greedy_search({"a": 1, "b": 10}, CANDIDATES, interacting, order=["a", "b"])
    assert result.best == {"a": 3, "b": 30} and result.passes == 3


def test_greedy_resumes_from_a_cache_without_retraining():
    cache, log = {}, []
    first = greedy_search({"a": 1, "b": 10}, CANDIDATES, make_evaluate(log), ["a", "b"], cache=cache, max_new=2)
    assert first.exhausted_budget and first.evaluated == 2 and len(cache) == 2
    rerun_log = []
    second = greedy_search({"a": 1, "b": 10}, CANDIDATES, make_evaluate(rerun_log), ["a", "b"], cache=cache)
    assert second.best == {"a": 3, "b": 20}
    assert all(
        config_key(c) not in {config_key(x) for batch in log for x in batch} for batch in rerun_log for c in batch
    )  # nothing trained twice
    assert len(cache) == 7


def test_greedy_skips_failed_configurations():
    def failing(configs):
        return [None if c["a"] == 3 else stub_objective(c) for c in configs]

    result = greedy_search({"a": 1, "b": 10}, CANDIDATES, failing, order=["a", "b"])
    assert result.best == {"a": 2, "b": 20}


def record(number, train_acc, val_acc, state="complete", **extra):
    params = {"hidden_size": 50, "learning_rate": 1e-4, "lr_decay": 0.95, "num_epochs": 5, "reg": 0.0}
    params.update(extra.pop("params", {}))
    return {
        "number": number,
        "state": state,
        "params": params,
        "train_acc": train_acc,
        "val_acc": val_acc,
        "seconds": 1.0,
        "diverged": False,
        "error": None,
        **extra,
    }


RECORDS = [
    record(0, 0.35, 0.33),  # underfit, first
    record(1, 0.70, 0.50, params={"hidden_size": 500}),  # overfit, new best
    record(2, 0.52, 0.49, params={"hidden_size": 1000}),  # balanced, below best, border
    record(3, 0.10, 0.10, diverged=True, params={"learning_rate": 1e-2}),  # diverged
    record(4, None, None, state="failed", error="MemoryError: too big"),  # failed
    record(5, 0.40, 0.38, state="pruned", pruned_epoch=2),  # pruned
    record(6, None, None, state="running"),  # interrupted
    record(7, 0.60, 0.55, params={"reg": 0.1}),  # new best by 5 points
]


@pytest.mark.parametrize(
    "lang, expected",
    [
        (
            "en",
            [
                "underfitting (train 35.0% is low",
                "first result",
                f"overfitting (train - val = 20.0 pts > {100 * OVERFIT_GAP:.0f})",
                "new best, +17.0 pts",
                "neither over- nor underfitting (train - val = 3.0 pts)",
                "1.0 pts below the best so far",
                "| 1000 † |",
                "diverged (non-finite loss): lower the learning rate",
                "crashed: MemoryError: too big",
                "stopped early by the pruner after epoch 2",
                "still running",
                "new best, +5.0 pts",
            ],
        ),
        (
            "ko",
            [
                "과소적합 (훈련 35.0%로 낮고",
                "첫 결과",
                "과적합 (훈련 - 검증 = 20.0%p > 10)",
                "최고 기록 갱신, +17.0%p",
                "과적합도 과소적합도 아님 (훈련 - 검증 = 3.0%p)",
                "지금까지의 최고보다 1.0%p 낮음",
                "| 1000 † |",
                "발산 (손실이 NaN/무한대): 학습률을 낮출 것",
                "실행 오류: MemoryError: too big",
                "2 에폭 후 pruner가 조기 중단",
                "실행 중",
                "최고 기록 갱신, +5.0%p",
            ],
        ),
    ],
)
def test_table_analyses_every_case(lang, expected):
    border = lambda name, value: name == "hidden_size" and value == 1000  # noqa: E731
    table = lab_table(RECORDS, lang, border)
    rows = table.splitlines()
    assert len(rows) == 2 + len(RECORDS) + 4  # the rows, the note on train acc, the footnote on border values
    assert rows[-3] == (
        "train acc is taken at the epoch with the best validation accuracy."
        if lang == "en"
        else "훈련정확도는 검증정확도가 가장 높았던 epoch의 값."
    )
    header = "| hidden_size | learning_rate | lr_decay | num_epochs | reg | "
    expected_header = "train acc | val acc | analysis" if lang == "en" else "훈련정확도 | 검증정확도"
    assert rows[0].startswith(header + expected_header)
    assert rows[2].startswith("| 50 | 0.0001 | 0.95 | 5 | 0 | 35.0% | 33.0% |")
    assert rows[-1] == (
        "† on the border of the search space: the best value may lie beyond it."
        if lang == "en"
        else "† 탐색 공간의 경계값: 최적값이 범위 밖에 있을 수 있음."
    )
    body = rows[2 : 2 + len(RECORDS)]
    cells = [row.rsplit("|", 2)[1] for row in body]
    for fragment in expected[:2]:
        assert fragment in cells[0]
    pairs = [(1, 2), (1, 3), (2, 4), (2, 5), (3, 7), (4, 8), (5, 9), (6, 10), (7, 11)]
    for row, fragment_index in pairs:
        assert expected[fragment_index] in cells[row], (row, expected[fragment_index], cells[row])
    assert body[2].startswith(expected[6]) and "†" not in "".join(body[:2] + body[3:])


def test_analysis_compares_with_the_best_so_far():
    assert "5.0 pts below the best so far" in analyse(record(9, 0.5, 0.45), best_before=0.5, lang="en")
    assert "ties the best so far" in analyse(record(9, 0.5, 0.45), best_before=0.45, lang="en")
    table = lab_table([record(0, 0.5, 0.4), record(1, 0.1, 0.1, diverged=True), record(2, 0.5, 0.41)], "en")
    assert "new best, +1.0 pts" in table  # the diverged row does not count as a best


def test_summary_flags_a_best_value_on_the_border():
    border = lambda name, value: (name, value) in (("reg", 0.1), ("hidden_size", 50))  # noqa: E731
    assert "Its hidden_size and reg are on the border of the search space; widen the space there." in summary(
        RECORDS, "en", border
    )
    assert "Its reg is on the border" in summary(RECORDS, "en", lambda name, value: (name, value) == ("reg", 0.1))
    assert "경계" in summary(RECORDS, "ko", border) and "border" not in summary(RECORDS, "en")


@pytest.mark.parametrize(
    "lang, fragments",
    [
        (
            "en",
            [
                "Best configuration: hidden_size=50, learning_rate=0.0001, num_epochs=5, reg=0.1",
                "trial 7",
                "55.0% validation",
                "What mattered most, judged only from sweeps where that one hyperparameter changed: reg "
                "(validation accuracy moved by 22.0 pts), then hidden_size (17.0).",
            ],
        ),
        (
            "ko",
            [
                "최적 설정: hidden_size=50",
                "검증 55.0%",
                "가장 큰 영향 (그 하이퍼파라미터 하나만 바꾼 비교로만 판단): reg",
            ],
        ),
    ],
)
def test_summary_names_the_best_and_what_mattered(lang, fragments):
    text = summary(RECORDS, lang)
    for fragment in fragments:
        assert fragment in text


def test_summary_without_results():
    assert (
        summary([record(0, None, None, state="failed")], "en")
        == "No trial finished, so there is no best configuration yet."
    )


def test_importance_comes_only_from_controlled_comparisons():
    sweep = [record(i, 0.5, 0.3 + 0.01 * i, params={"learning_rate": 1e-5 * (i + 1)}) for i in range(9)]
    assert importance(sweep) == [("learning_rate", pytest.approx(0.08))]
    # reg changes together with the rate in trials 10 and 11: their difference says nothing about either
    confounded = [*sweep, record(10, 0.5, 0.9, params={"reg": 0.5, "learning_rate": 1.0})]
    confounded.append(record(11, 0.5, 0.2, params={"reg": 0.9, "learning_rate": 2.0}))
    assert importance(confounded) == [("learning_rate", pytest.approx(0.08))]
    random_search = [record(i, 0.5, 0.1 * i, params={"reg": i / 10, "learning_rate": 10.0**-i}) for i in range(1, 5)]
    assert importance(random_search) == []
    assert "cannot say which mattered most" in summary(random_search, "en")


def test_no_analysis_leaves_the_analysis_for_the_student():
    table = lab_table(RECORDS, "ko", analysis=False)
    rows = [row for row in table.splitlines() if row.startswith("| ") and "hidden_size" not in row]
    assert rows and all(row.endswith("|  |") for row in rows)
    assert "결과 분석 및 고찰" in table and "훈련정확도는 검증정확도가 가장 높았던 epoch의 값." in table
    assert "가장 큰 영향" not in summary(RECORDS, "ko", analysis=False)
    assert "최적 설정" in summary(RECORDS, "ko", analysis=False)


def test_results_csv_has_every_trial():
    rows = list(csv.DictReader(io.StringIO(results_csv(RECORDS))))
    assert [r["number"] for r in rows] == [str(i) for i in range(8)]
    assert rows[4]["state"] == "failed" and rows[4]["error"] == "MemoryError: too big"
    assert rows[3]["diverged"] == "True" and rows[1]["hidden_size"] == "500"


def test_space_defaults_and_overrides(tmp_path):
    space = load_space()
    assert space.params["learning_rate"].log and space.fixed["batch_size"] == 200 and space.fixed["lr_decay"] == 0.95
    toml = tmp_path / "space.toml"
    toml.write_text(
        '[hidden_size]\nvalues = [100, 300]\n[reg]\nlow = 1e-3\nhigh = 1.0\n[fixed]\nupdate_rule = "adam"\n'
    )
    space = load_space(toml)
    assert space.params["hidden_size"].values == (100, 300) and space.params["hidden_size"].low == 100
    assert space.params["reg"].low == 1e-3 and space.fixed["update_rule"] == "adam"
    assert space.params["num_epochs"] == DEFAULT_PARAMS["num_epochs"]
    js = tmp_path / "space.json"
    js.write_text(json.dumps({"num_epochs": {"values": [1], "low": 1, "high": 2}}))
    assert load_space(js).params["num_epochs"].values == (1,)
    assert space.params["hidden_size"].on_border(300) and not space.params["hidden_size"].on_border(200)


def test_space_tunes_optional_settings_and_fixes_any_train_setting(tmp_path):
    toml = tmp_path / "space.toml"
    toml.write_text(
        "[label_smoothing]\nvalues = [0.0, 0.1]\n[weight_decay]\n"
        '[fixed]\npreprocessing = "zca"\nflip = true\ncrop_padding = 4\nlr_schedule = "cosine"\n'
    )
    space = load_space(toml)
    assert list(space.params) == [*TUNED, "label_smoothing", "weight_decay"]
    assert space.params["label_smoothing"].values == (0.0, 0.1)
    assert space.params["weight_decay"] == OPTIONAL_PARAMS["weight_decay"]
    assert space.fixed["preprocessing"] == "zca" and space.fixed["flip"] is True and space.fixed["batch_size"] == 200


def test_table_shows_tuned_settings_beyond_the_lab_columns():
    trials = [
        {
            "number": i,
            "state": "complete",
            "train_acc": 0.5,
            "val_acc": 0.4 + i / 100,
            "params": {
                "hidden_size": 50,
                "learning_rate": 1e-4,
                "lr_decay": 0.95,
                "num_epochs": 5,
                "reg": 0.0,
                "batch_size": 200,
                "label_smoothing": value,
            },
        }
        for i, value in enumerate((0.0, 0.1))
    ]
    header = lab_table(trials).splitlines()[0]
    assert header.startswith(
        "| hidden_size | learning_rate | lr_decay | num_epochs | reg | label_smoothing | train acc"
    )
    assert "batch_size" not in header  # fixed: the same in every trial


@pytest.mark.parametrize(
    "content, message",
    [
        ("[hidden_size]\nvalues = []\n", "hidden_size: the list of values is empty"),
        ("[fixed]\nflips = true\n", r"\[fixed\] flips are not train.py settings"),
        ("[reg]\nlow = 1.0\nhigh = 0.1\n", r"reg: the range is inverted \(low 1.0 > high 0.1\)"),
        ("[learning_rate]\nlow = 0.0\nhigh = 0.1\n", "needs low > 0"),
        ("[batchsize]\nvalues = [1]\n", "unknown sections batchsize"),
        ("[hidden_size]\nvalues = [10.5]\nlow = 1\nhigh = 20\n", "positive integers"),
        ("not toml at all [", "not valid TOML"),
    ],
)
def test_bad_spaces_are_refused(tmp_path, content, message):
    path = tmp_path / "space.toml"
    path.write_text(content)
    with pytest.raises(SpaceError, match=message):
        load_space(path)
    with pytest.raises(SpaceError, match="file not found"):
        load_space(tmp_path / "missing.toml")
