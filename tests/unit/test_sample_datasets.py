"""The sample CSVs shipped for the fine-tuning page parse and are usable as they are."""

from pathlib import Path

import pandas as pd
import pytest

DATASETS = Path(__file__).resolve().parents[2] / "assets" / "datasets"


@pytest.mark.parametrize("name", ["movie_reviews", "movie_reviews_train", "movie_reviews_test", "classroom"])
def test_sample_csv_has_text_and_label_and_no_blanks(name):
    frame = pd.read_csv(DATASETS / f"{name}.csv")
    assert list(frame.columns) == ["text", "label"]
    assert not frame.isna().any().any()
    assert (frame["text"].str.strip() != "").all()


@pytest.mark.parametrize("name", ["movie_reviews_train", "movie_reviews_test"])
def test_each_movie_review_split_has_both_classes_balanced(name):
    counts = pd.read_csv(DATASETS / f"{name}.csv")["label"].value_counts()
    assert set(counts.index) == {"positive", "negative"}
    assert counts["positive"] == counts["negative"]


def test_splits_partition_the_full_file_without_overlap():
    full = pd.read_csv(DATASETS / "movie_reviews.csv")
    train = pd.read_csv(DATASETS / "movie_reviews_train.csv")
    test = pd.read_csv(DATASETS / "movie_reviews_test.csv")
    assert len(full) == 2000
    assert set(train["text"]).isdisjoint(test["text"])
    assert set(train["text"]) | set(test["text"]) == set(full["text"])


def test_classroom_has_a_few_dozen_rows_in_three_classes():
    frame = pd.read_csv(DATASETS / "classroom.csv")
    assert 24 <= len(frame) <= 60
    assert frame["label"].nunique() == 3
