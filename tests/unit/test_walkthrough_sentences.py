"""The worked example's sentences after any edit: each one is read back and checked against the matrices on screen.

The checker below does not reuse the code that writes the sentences: it parses what a student reads (vectors,
row numbers, weights) and recomputes it from the matrices with plain numpy. A sentence that no rule can read fails
too, so a new kind of sentence cannot slip past unchecked.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from albert_viz.analysis import walkthrough

ATOL = 1e-9
NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
VECTOR = r"\[([^\]]*)\]"
TUPLE = r"\(((?:" + NUMBER + r", )+" + NUMBER + r")\)"

# Sentences about the article or about attention in general: true whatever the matrices are.
GENERAL = (
    "A row such as (0.2, 0.3, 0.1, 0.2, 0.2) needs unequal scores in that row",
    "So these Q and K cannot give the article's rows.",
    "Distinct projections are what make attention useful.",
    "The article also writes a_ij = softmax",
    "Correct: a_ij = exp(q_i · k_j / √d_k)",
    "You have edited the article's matrices, so everything below is about the matrices on screen now.",
)


def numbers(text: str) -> np.ndarray:
    return np.array([float(value) for value in re.findall(NUMBER, text)])


def same_rows(matrix: np.ndarray) -> bool:
    return bool(np.allclose(matrix, matrix[0], rtol=0, atol=1e-12))


def uniform_rows(scaled: np.ndarray) -> set[int]:
    return {i for i, row in enumerate(scaled) if np.allclose(row, row[0], rtol=0, atol=1e-12)}


def close(shown: np.ndarray, actual: np.ndarray, digits: int = 4) -> bool:
    """Numbers printed to `digits` places (or with :g) agree with the actual ones."""
    return shown.shape == actual.shape and bool(np.allclose(shown, actual, rtol=1e-5, atol=0.6 * 10 ** -digits))


def rows_listed(text: str) -> set[int]:
    """'row 1' / 'rows 1, 2 and 4' -> {0, 1, 3}."""
    return {int(n) - 1 for n in re.findall(r"\d+", text)}


class Screen:
    """The matrices a student sees, and what each kind of sentence claims about them."""

    def __init__(self, result: walkthrough.ToyAttention, preset: walkthrough.ToyPreset):
        self.r, self.preset = result, preset
        self.matrices = {"q": result.q, "k": result.k, "v": result.v, "o": result.output}
        self.names = {"X": result.x, "W_Q": result.w_q, "W_K": result.w_k, "W_V": result.w_v}
        self.before = {"X": preset.x, "W_Q": preset.w_q, "W_K": preset.w_k, "W_V": preset.w_v}

    def rules(self):
        """(pattern, check) pairs: check(match) is True when the matrices agree with the sentence."""
        r = self.r
        n = len(r.tokens)
        return [
            (r"every ([qkv])_[ij] is " + VECTOR, lambda m: same_rows(self.matrices[m[1]])
             and close(numbers(m[2]), self.matrices[m[1]][0])),
            (r"every q_i, k_i and v_i is " + VECTOR, lambda m: all(
                same_rows(self.matrices[x]) and close(numbers(m[1]), self.matrices[x][0]) for x in "qkv")),
            (r"the ([qkv])_[ij] are not all equal", lambda m: not same_rows(self.matrices[m[1]])),
            (r"The keys are not all equal \(k_1 = " + VECTOR + r", k_(\d) = " + VECTOR + r"\)",
             lambda m: not same_rows(r.k) and close(numbers(m[1]), r.k[0]) and close(numbers(m[3]), r.k[int(m[2]) - 1])
             and not np.allclose(r.k[0], r.k[int(m[2]) - 1])),
            (r"every score q_i · k_j = (" + NUMBER + r")", lambda m: np.allclose(r.scores, float(m[1]), atol=ATOL)),
            (r"every scaled score is " + NUMBER + r"/√(\d+) = (" + NUMBER + ")",
             lambda m: int(m[1]) == r.d_k and np.allclose(r.scaled, float(m[2]), atol=1e-9)),
            (r"within each row every score is the same", lambda m: len(uniform_rows(r.scaled)) == n),
            (r"every query q_i is at right angles to the differences between the keys",
             lambda m: np.allclose(r.q @ (r.k - r.k[0]).T, 0, atol=1e-9)),
            (r"row (\d)'s scaled scores are " + TUPLE, lambda m: close(numbers(m[2]), r.scaled[int(m[1]) - 1])
             and int(m[1]) - 1 not in uniform_rows(r.scaled)),
            (r"In every row the (\d) scores are equal", lambda m: int(m[1]) == n and len(uniform_rows(r.scaled)) == n),
            (r"every weight is exactly 1/(\d)", lambda m: int(m[1]) == n and np.allclose(r.weights, 1 / n, atol=ATOL)),
            (r"(rows? [\d, and]+) (?:is|are) uniform \(1/(\d) each\), the others not",
             lambda m: rows_listed(m[1]) == {i for i in range(n) if np.allclose(r.weights[i], 1 / n, atol=ATOL)}),
            (r"no row is uniform", lambda m: not any(np.allclose(row, 1 / n, atol=ATOL) for row in r.weights)),
            (r"row (\d)'s weights are " + TUPLE, lambda m: close(numbers(m[2]), r.weights[int(m[1]) - 1])
             and not np.allclose(r.weights[int(m[1]) - 1], 1 / n, atol=ATOL)),
            (r"Row (\d) matches one of the article's assumed rows", lambda m: any(
                np.allclose(r.weights[int(m[1]) - 1], row, atol=5e-3) for row in walkthrough.ARTICLE_ASSUMED_WEIGHTS)),
            (r"None of these rows is one the article assumed", lambda m: not any(
                np.allclose(row, assumed, atol=5e-3) for row in r.weights for assumed in walkthrough.ARTICLE_ASSUMED_WEIGHTS)),
            (r"the attention matrix is (\d)×(\d)", lambda m: int(m[1]) == int(m[2]) == r.weights.shape[0]),
            (r"would need a sixth token that does not exist", lambda m: n < 6),
            (r"All v_j are equal \(" + VECTOR + r"\), so every output o_i = Σ_j a_ij v_j is " + VECTOR,
             lambda m: same_rows(r.v) and close(numbers(m[1]), r.v[0]) and close(numbers(m[2]), r.output[0])
             and same_rows(r.output)),
            (r"every output o_i comes out as the same mix " + VECTOR,
             lambda m: same_rows(r.output) and close(numbers(m[1]), r.output[0])),
            (r"the outputs differ: o_1 = " + VECTOR + r", o_(\d) = " + VECTOR,
             lambda m: close(numbers(m[1]), r.output[0]) and close(numbers(m[3]), r.output[int(m[2]) - 1])
             and not close(numbers(m[1]), numbers(m[3]))),
            (r"(X|W_Q|W_K|W_V)\[([^\]]+)\] = (" + NUMBER + r") \(was (" + NUMBER + r")\)", self._edit),
            (r"Edited from “([^”]+)”", lambda m: m[1] == self.preset.name and self._edited()),
            # the presets' own descriptions, shown only while their matrices are untouched
            (r"x_i one-hot", lambda m: np.array_equal(r.x, np.eye(n))),
            (r"W_Q = W_K = W_V = I", lambda m: all(np.array_equal(w, np.eye(n)) for w in (r.w_q, r.w_k, r.w_v))),
            (r"each token matches itself most", lambda m: list(r.weights.argmax(axis=1)) == list(range(n))),
            (r"q_i = (" + NUMBER + r")·e_\(i-1\) and k_j = e_j", lambda m: np.array_equal(r.k, np.eye(n))
             and all(np.array_equal(r.q[i], float(m[1]) * np.eye(n)[max(i - 1, 0)]) for i in range(n))),
            (r"the largest score is with the previous token",
             lambda m: list(r.scores.argmax(axis=1))[1:] == list(range(n - 1))),
            (r"every q_i = (" + NUMBER + r")·e_5 and k_j = e_j", lambda m: np.array_equal(r.k, np.eye(n))
             and np.allclose(r.q, float(m[1]) * np.eye(n)[4])),
            (r"the score is high only for \[SEP\]", lambda m: set(r.scores.argmax(axis=1)) == {n - 1}),
            (r"Random numbers: no pattern, but every step still adds up", lambda m: True),  # says nothing checkable
            (r"With the article's own matrices every score is 5, every scaled score 2.2360679775 and every weight "
             r"exactly 1/5 = 0.2", lambda m: True),  # a fact about the unedited article, checked in test_walkthrough
        ]

    def _edited(self) -> bool:
        return any(not np.array_equal(self.names[name], self.before[name]) for name in self.names)

    def _edit(self, m) -> bool:
        first, second = (part.strip() for part in m[2].split(","))
        column = int(second[1:]) - 1
        row = list(self.r.tokens).index(first) if m[1] == "X" else int(first[1:]) - 1
        return (self.names[m[1]][row, column] == float(m[3]) and self.before[m[1]][row, column] == float(m[4])
                and float(m[3]) != float(m[4]))


def sentences(text: str) -> list[str]:
    return [part for part in re.split(r"(?<=[.!?])\s+(?=[A-Z“])", text) if part]


def contradictions(screen: Screen, texts: list[str]) -> list[str]:
    """Every sentence no rule can read, or one whose claims the matrices contradict."""
    problems = []
    for sentence in (s for text in texts for s in sentences(text)):
        if any(sentence.startswith(general) for general in GENERAL):
            continue
        matches = [(pattern, check, match) for pattern, check in screen.rules()
                   for match in re.finditer(pattern, sentence)]
        if not matches:
            problems.append(f"unreadable: {sentence}")
        problems += [f"contradicted ({pattern}): {sentence}" for pattern, check, match in matches if not check(match)]
    return problems


def section_text(preset: walkthrough.ToyPreset, result: walkthrough.ToyAttention) -> list[str]:
    """What the toy section says about these matrices: the line above them and, for the article, the corrections."""
    texts = [walkthrough.describe_toy(preset, result)]
    if preset.name == walkthrough.article_preset().name:
        texts += walkthrough.article_corrections(result)
    return texts


def random_edit(preset: walkthrough.ToyPreset, rng: np.random.Generator):
    """One to four cells changed, as a student types them: small whole numbers, zeros, or a decimal."""
    matrices = {name: getattr(preset, name).copy() for name in ("x", "w_q", "w_k", "w_v")}
    for _ in range(rng.integers(1, 5)):
        name = rng.choice(list(matrices))
        row, column = rng.integers(0, 5, size=2)
        matrices[name][row, column] = rng.choice([0.0, 1.0, 2.0, 3.0, -1.0, 0.5, round(rng.normal(), 1)])
    return matrices


def run(matrices) -> walkthrough.ToyAttention:
    return walkthrough.toy_attention(matrices["x"], matrices["w_q"], matrices["w_k"], matrices["w_v"],
                                     tokens=walkthrough.TOY_TOKENS)


def test_the_issue_s_edit_gets_no_sentence_the_matrices_contradict():
    preset = walkthrough.article_preset()
    matrices = {name: getattr(preset, name).copy() for name in ("x", "w_q", "w_k", "w_v")}
    matrices["w_k"][0, 0], matrices["w_v"][1, 1], matrices["w_q"][0, 0] = 3, 0, 0
    result = run(matrices)
    texts = section_text(preset, result)
    assert contradictions(Screen(result, preset), texts) == []
    assert "every q_i, k_i and v_i is [1,1,1,1,1]" not in " ".join(texts)
    assert texts[0].startswith("Edited from “The article's example”")


@pytest.mark.parametrize("preset_key", list(walkthrough.TOY_PRESETS))
def test_random_edits_of_every_preset_get_no_sentence_the_matrices_contradict(preset_key):
    rng = np.random.default_rng(25)
    preset = walkthrough.TOY_PRESETS[preset_key]()
    for trial in range(150):
        matrices = random_edit(preset, rng)
        result = run(matrices)
        problems = contradictions(Screen(result, preset), section_text(preset, result))
        assert problems == [], (trial, {name: matrix.tolist() for name, matrix in matrices.items()}, problems)


def test_fully_random_matrices_under_the_article_get_no_sentence_the_matrices_contradict():
    rng = np.random.default_rng(7)
    preset = walkthrough.article_preset()
    for trial in range(150):
        matrices = {name: np.round(rng.normal(size=(5, 5)), 1) for name in ("x", "w_q", "w_k", "w_v")}
        if trial % 3 == 0:
            matrices["w_k"][:] = matrices["w_k"][0]  # identical key columns: the "same key everywhere" sentences
        result = run(matrices)
        assert contradictions(Screen(result, preset), section_text(preset, result)) == [], trial


def test_the_checker_catches_the_old_contradiction():
    """The sentence main printed for the issue's edit is caught: the checker is not vacuous."""
    preset = walkthrough.article_preset()
    matrices = {name: getattr(preset, name).copy() for name in ("x", "w_q", "w_k", "w_v")}
    matrices["w_k"][0, 0], matrices["w_v"][1, 1], matrices["w_q"][0, 0] = 3, 0, 0
    result = run(matrices)
    old = ("The keys are not all equal (k_1 = [3, 1, 1, 1, 1], k_2 = [1, 1, 1, 1, 1]), so the scores within a row "
           "can differ: row 1's scaled scores are (1.7889, 1.7889, 1.7889, 1.7889, 1.7889).")
    assert any("contradicted" in problem for problem in contradictions(Screen(result, preset), [old]))
    assert contradictions(Screen(result, preset), ["x_i one-hot; every q_i, k_i and v_i is [1,1,1,1,1]."])
