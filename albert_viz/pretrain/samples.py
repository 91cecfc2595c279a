"""Sample CSVs for the fine-tuning page: movie reviews (from Rotten Tomatoes) and a classroom set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from albert_viz.assets import DATASETS_DIR
from albert_viz.pretrain.sources import rotten_tomatoes


LABELS = {"fresh": "positive", "rotten": "negative"}


@dataclass(frozen=True)
class SampleConfig:
    """How the movie-review sample is drawn."""

    per_class: int = 1000
    test_fraction: float = 0.2
    seed: int = 13
    min_words: int = 4


def movie_reviews(frame: pd.DataFrame, config: SampleConfig = SampleConfig()) -> pd.DataFrame:
    """A balanced text,label frame of review snippets (plots dropped, duplicates dropped)."""
    reviews = frame[frame["category"].isin(list(LABELS))].drop_duplicates(subset="text")
    reviews = reviews[reviews["text"].str.split().str.len() >= config.min_words]
    picked = reviews.groupby("category", group_keys=False).sample(n=config.per_class, random_state=config.seed)
    out = pd.DataFrame({"text": picked["text"], "label": picked["category"].map(LABELS)})
    return out.sample(frac=1.0, random_state=config.seed).reset_index(drop=True)


def split_reviews(reviews: pd.DataFrame, config: SampleConfig = SampleConfig()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fixed stratified train/test split."""
    train, test = train_test_split(
        reviews, test_size=config.test_fraction, random_state=config.seed, stratify=reviews["label"]
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


# Short sentences a teacher can read aloud; three topics a tiny model can tell apart.
CLASSROOM_ROWS = (
    ("The cat curled up on the warm windowsill and purred.", "animals"),
    ("A dog ran across the park to fetch the ball.", "animals"),
    ("The horse galloped through the open field.", "animals"),
    ("Two rabbits nibbled carrots in the garden.", "animals"),
    ("An owl hooted from the tall oak tree at night.", "animals"),
    ("The elephant sprayed water with its long trunk.", "animals"),
    ("My goldfish swims in circles around its bowl.", "animals"),
    ("A little puppy chewed on my favourite shoe.", "animals"),
    ("The lion slept in the shade all afternoon.", "animals"),
    ("Ducks paddled across the pond in a neat line.", "animals"),
    ("The monkey swung from branch to branch.", "animals"),
    ("A spider spun a web in the corner of the barn.", "animals"),
    ("We baked fresh bread and ate it with butter.", "food"),
    ("This pizza has too much cheese and not enough sauce.", "food"),
    ("She made a big bowl of tomato soup for lunch.", "food"),
    ("The apples from the market were sweet and crisp.", "food"),
    ("He fried two eggs and some bacon for breakfast.", "food"),
    ("Chocolate cake is my favourite dessert.", "food"),
    ("We cooked rice and vegetables for dinner.", "food"),
    ("The lemonade was cold and a little sour.", "food"),
    ("Grandma's pancakes come with honey and berries.", "food"),
    ("I had a cheese sandwich and an orange at school.", "food"),
    ("The spicy noodles made my eyes water.", "food"),
    ("Dad grilled burgers in the backyard.", "food"),
    ("It rained all morning and the streets flooded.", "weather"),
    ("The sun is shining and there is not a cloud in the sky.", "weather"),
    ("Heavy snow closed the schools today.", "weather"),
    ("A strong wind blew the leaves off the trees.", "weather"),
    ("Thunder rumbled and lightning flashed over the hills.", "weather"),
    ("The fog was so thick we could not see the road.", "weather"),
    ("It is freezing cold and the lake has turned to ice.", "weather"),
    ("Tomorrow will be hot and humid with a chance of storms.", "weather"),
    ("A rainbow appeared after the summer shower.", "weather"),
    ("The forecast says light drizzle in the afternoon.", "weather"),
    ("Hail bounced off the car roof during the storm.", "weather"),
    ("A warm breeze and clear skies made it a lovely day.", "weather"),
)


def classroom() -> pd.DataFrame:
    """The hand-written classroom set as a text,label frame."""
    return pd.DataFrame(CLASSROOM_ROWS, columns=["text", "label"])


def build_samples(out_dir: Path = DATASETS_DIR, config: SampleConfig = SampleConfig()) -> dict[str, pd.DataFrame]:
    """Write movie_reviews{,_train,_test}.csv and classroom.csv; return the frames."""
    reviews = movie_reviews(rotten_tomatoes(), config)
    train, test = split_reviews(reviews, config)
    frames = {"movie_reviews": reviews, "movie_reviews_train": train,
              "movie_reviews_test": test, "classroom": classroom()}
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(out_dir / f"{name}.csv", index=False)
    return frames


def held_out_texts(out_dir: Path = DATASETS_DIR) -> set[str]:
    """Texts of the sample test split: these must never reach the pretraining corpus."""
    return set(pd.read_csv(out_dir / "movie_reviews_test.csv")["text"].astype(str))
