"""A live class: the teacher leads a lesson, every student follows on their own device, the class answers together.

The rules, in plain Python over the shared tables of albert_viz.store.classes (SQLite for one server,
PostgreSQL for several). Everything a student typed is stored verbatim after cleaning and returned as plain
text: the pages show it with st.text, never as Markdown or HTML.

Security, briefly: join codes are 6 characters from an alphabet without look-alikes, drawn with `secrets`;
failed joins are limited per browser session and, for a guesser who opens new sessions, server-wide (a cap a
class of 30 with typos stays far below), so guessing a code takes longer than a class lives; and a code stops
working once its teacher has been away for CLASS_IDLE_HOURS. A student's
token is random (secrets.token_urlsafe) and the database keeps only its sha256. Teacher actions exist only on
a TeacherHandle, which only the right ALBERT_VIZ_TEACHER_PASSPHRASE gives (compared in constant time; a few wrong
ones per browser session, then a wait). Every refusal is a ClassError with a
sentence to show; a database that is down or locked raises store.engine.DatabaseUnavailable, and the class is
intact when it is back.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import time
import unicodedata
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd
import segno

from albert_viz.store.classes import ClassTables, CodeTaken, LockedClass, Row
from albert_viz.store.engine import DatabaseUnavailable

__all__ = [
    "CLASS_IDLE_HOURS",
    "CLASS_IDLE_S",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "JOIN_ATTEMPTS",
    "JOIN_FAILURES_PER_MINUTE",
    "JOIN_WINDOW_S",
    "KINDS",
    "MAX_NAME",
    "MAX_SENTENCE",
    "PASSPHRASE_ATTEMPTS",
    "PASSPHRASE_VARIABLE",
    "PASSPHRASE_WINDOW_S",
    "SENTENCES_PER_MINUTE",
    "ClassError",
    "ClassState",
    "DatabaseUnavailable",
    "LiveClasses",
    "Member",
    "QuestionState",
    "SentOffer",
    "TeacherHandle",
    "clean_name",
    "clean_sentence",
    "join_link",
    "normalise_code",
    "qr_svg",
]

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a projector without doubt
CODE_LENGTH = 6  # 31**6 = 887 million codes
MAX_NAME = 40  # characters of a display name
MAX_SENTENCE = 300  # characters of a sentence a student sends
JOIN_ATTEMPTS = 10  # failed joins per session per JOIN_WINDOW_S
JOIN_WINDOW_S = 600.0
JOIN_FAILURES_PER_MINUTE = 100  # failed joins from all sessions on this database: 30 students x 3 typos stay below
CLASS_IDLE_HOURS = 3  # a class's code stops working after this long without a teacher's action (a lesson's length,
CLASS_IDLE_S = CLASS_IDLE_HOURS * 3600.0  # with a break; the teacher's next action brings the class back)
PASSPHRASE_ATTEMPTS = 5  # wrong teacher passphrases per browser session per PASSPHRASE_WINDOW_S
PASSPHRASE_WINDOW_S = 600.0
SENTENCES_PER_MINUTE = 5  # per student: the teacher's list stays readable
TOKEN_BYTES = 24  # 192 random bits per student token
PASSPHRASE_VARIABLE = "ALBERT_VIZ_TEACHER_PASSPHRASE"
KINDS = ("attention", "mask", "order")
OPEN, CLOSED, REVEALED = "open", "closed", "revealed"
_SEAL_CONTEXT = b"albert_viz live class token"
_TYPED_BOUND = 10_000  # characters of typed text looked at, at most: a pasted novel costs nothing
_SPREADSHEET_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a CSV cell starting so is run by spreadsheets


class ClassError(ValueError):
    """A user's mistake or a refused action; str(error) is a plain sentence to show."""


# Pure helpers

def normalise_code(typed: str) -> str:
    """Upper-case, spaces and dashes removed: "abc-def" -> "ABCDEF"."""
    return re.sub(r"[\s\-]+", "", str(typed or "")[:_TYPED_BOUND]).upper()


def _well_formed(code: str) -> bool:
    """A normalised code that could be a class's: anything else is refused without asking the database."""
    return len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)


def _plain(text: str) -> str:
    """NFC, control and format characters dropped (no bidi overrides, no zero-width tricks), whitespace collapsed."""
    text = unicodedata.normalize("NFC", str(text or "")[:_TYPED_BOUND])
    text = "".join(" " if ch.isspace() else ch for ch in text if ch.isspace() or unicodedata.category(ch)[0] != "C")
    return " ".join(text.split())


def clean_name(typed: str) -> str:
    """A display name as shown: plain text, at most MAX_NAME characters; "" means anonymous ("Student 7")."""
    return _plain(typed)[:MAX_NAME].rstrip()


def clean_sentence(typed: str) -> str:
    """A student's sentence as the teacher sees it: plain text, at most MAX_SENTENCE characters."""
    return _plain(typed)[:MAX_SENTENCE].rstrip()


def join_link(base_url: str, code: str) -> str:
    """The link a student opens (or scans) to join: the Lessons page with the class's code."""
    return f"{base_url.rstrip('/')}/present?class={urllib.parse.quote(normalise_code(code))}"


def qr_svg(link: str, scale: int = 8) -> str:
    """The link as a QR code, an SVG document (black on white, `scale` pixels per module, a 4-module margin)."""
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="svg", scale=scale, xmldecl=False, dark="#000", light="#fff")
    return out.getvalue().decode("utf-8")


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _pad(session_id: str, code: str) -> bytes:
    """The one pad that seals this session's token in this class (derived from the session id, never stored)."""
    return hmac.new(session_id.encode("utf-8"), _SEAL_CONTEXT + code.encode(), hashlib.sha256).digest()[:TOKEN_BYTES]


def _seal(token: str, session_id: str, code: str) -> str:
    raw = base64.urlsafe_b64decode(token)  # TOKEN_BYTES bytes: token_urlsafe(24) has no padding
    return bytes(a ^ b for a, b in zip(raw, _pad(session_id, code))).hex()


def _unseal(sealed: str, session_id: str, code: str) -> str:
    raw = bytes(a ^ b for a, b in zip(bytes.fromhex(sealed), _pad(session_id, code)))
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _spreadsheet_safe(value):
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (names are typed by anyone)."""
    return f"'{value}" if isinstance(value, str) and value.startswith(_SPREADSHEET_FORMULA) else value


# What the screens read

@dataclass(frozen=True)
class Member:
    """A joined student. `token` is their secret (in their URL only); it is never logged or shown to others."""

    code: str
    token: str = field(repr=False)
    name: str


@dataclass(frozen=True)
class QuestionState:
    id: int
    kind: str  # "attention" | "mask" | "order"
    prompt: str
    choices: tuple[str, ...]
    state: str  # "open" | "closed" | "revealed"
    answered: int  # how many members answered (live)
    counts: tuple[int, ...] | None  # per choice; only when revealed (None before)
    model_choice: int | None  # the model's answer; only when revealed
    explanation: str | None  # the model's numbers in words; only when revealed
    spec: dict  # what built it: lesson step settings (sentence, layer, head, ...)


@dataclass(frozen=True)
class ClassState:
    """What every screen reads on each poll (one cheap read)."""

    code: str
    lesson: str
    step: int
    sentence: str | None  # a student's sentence the teacher put on the projector, else None
    ended: bool
    members: int
    question: QuestionState | None  # the current question, if any
    version: int  # bumps on every change of this state: followers redraw only when it changes
    expired: bool = False  # no teacher's action for CLASS_IDLE_HOURS: the code refuses joins, answers wait


@dataclass(frozen=True)
class SentOffer:
    id: int
    name: str
    text: str
    sent_at: float
    hidden: bool


def _json(value):
    """A JSON column as a value: drivers give SQLite's text back parsed, but be sure."""
    return json.loads(value) if isinstance(value, str) else value


def _question_state(row: Row) -> QuestionState | None:
    if row["question_id"] is None:
        return None
    revealed = row["question_state"] == REVEALED
    return QuestionState(
        id=row["question_id"], kind=row["kind"], prompt=row["prompt"], choices=tuple(_json(row["choices"])),
        state=row["question_state"], answered=int(row["answered"]),
        counts=tuple(_json(row["counts"])) if revealed else None,
        model_choice=row["model_choice"] if revealed else None,
        explanation=row["explanation"] if revealed else None, spec=dict(_json(row["spec"])))


def _expired(row: Row, now: float) -> bool:
    """A running class whose teacher has not acted for CLASS_IDLE_S (since it opened, if never)."""
    last = row["teacher_at"] if row["teacher_at"] is not None else row["created"]
    return not row["ended"] and now - float(last) > CLASS_IDLE_S


def _class_state(row: Row, now: float) -> ClassState:
    return ClassState(code=row["code"], lesson=row["lesson"], step=int(row["step"]), sentence=row["sentence"],
                      ended=bool(row["ended"]), members=int(row["members"]), question=_question_state(row),
                      version=int(row["version"]), expired=_expired(row, now))


def _no_class(code: str) -> ClassError:
    shown = (code[:CODE_LENGTH + 2] + ("…" if len(code) > CODE_LENGTH + 2 else "")) or "(empty)"
    return ClassError(f"No class has the code {shown}. Check the code on the projector (letters and digits, "
                      f"{CODE_LENGTH} of them) and type it again.")


ENDED = "This class has ended: the teacher closed it. You can keep exploring the app on your own."
EXPIRED = (f"This class's code no longer works: its teacher has not moved the lesson on for over {CLASS_IDLE_HOURS} "
           "hours. If your teacher is back, this page carries on by itself; otherwise ask for today's code.")
JOINS_PAUSED = ("Too many wrong class codes were typed on this server in the last minute, so joining is paused for "
                "a moment. Wait a minute, then press Join again.")
NOT_A_MEMBER = ("This link's student token does not belong to this class (or was changed). Join again with the "
                "class code on the projector.")


# The classes

class LiveClasses:
    """Every live class on this database; safe to share between sessions and threads of one server."""

    def __init__(self, url: str | None = None, clock: Callable[[], float] = time.time):
        self.tables = ClassTables(url)
        self.clock = clock  # seconds since the epoch; tests pass their own to move time on without sleeping

    # Anyone

    def state(self, code: str) -> ClassState:
        """The class as every screen shows it, in one read; ClassError if no class has this code."""
        code = normalise_code(code)
        row = self.tables.state_row(code) if _well_formed(code) else None
        if row is None:
            raise _no_class(code)
        return _class_state(row, self.clock())

    def join(self, code: str, name: str, session_id: str) -> Member:
        """Join a class (or get the same membership back, from the same session); the name made unique."""
        if not str(session_id or ""):
            raise ClassError("This browser session has no id; reload the page and join again.")
        code, session_hash, now = normalise_code(code), _sha256(str(session_id)), self.clock()
        if self.tables.join_failures_since(session_hash, now - JOIN_WINDOW_S) >= JOIN_ATTEMPTS:
            raise ClassError(f"Too many wrong class codes from this browser. Wait {JOIN_WINDOW_S / 60:.0f} minutes, "
                             "then type the code on the projector again (or ask your teacher for the link).")
        if self.tables.join_failures_anywhere_since(now - 60) >= JOIN_FAILURES_PER_MINUTE:
            raise ClassError(JOINS_PAUSED)  # even a right code: else a guesser in fresh sessions learns at full speed
        if _well_formed(code):
            with self.tables.locked(code) as locked:
                if locked.row is not None:
                    return self._join_locked(locked, clean_name(name), str(session_id), session_hash, now)
        self.tables.record_join_failure(session_hash, now, forget_before=now - JOIN_WINDOW_S)
        raise _no_class(code)

    def _join_locked(self, locked: LockedClass, name: str, session_id: str, session_hash: str, now: float) -> Member:
        if locked.row["ended"]:
            raise ClassError(ENDED)
        if _expired(locked.row, now):
            raise ClassError(EXPIRED)
        existing = locked.member_by_session(session_hash)
        if existing is not None:  # a second click, a reload without the URL: the same membership
            return Member(locked.code, _unseal(existing["token_sealed"], session_id, locked.code), existing["name"])
        number = locked.member_count() + 1
        unique = _unique_name(locked, name or f"Student {number}")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        locked.add_member({"number": number, "name": unique, "name_key": unique.casefold(),
                           "token_hash": _sha256(token), "session_hash": session_hash,
                           "token_sealed": _seal(token, session_id, locked.code), "joined": now})
        locked.change()
        return Member(locked.code, token, unique)

    def member(self, code: str, token: str) -> Member:
        """The membership a reload brings back from the URL's code and token; ClassError if forged or over."""
        row = self._member_row(normalise_code(code), str(token or ""))
        return Member(row["class_code"], str(token), row["name"])

    def _member_row(self, code: str, token: str) -> Row:
        if not _well_formed(code):
            raise _no_class(code)
        token_hash = _sha256(token[:_TYPED_BOUND])
        row = self.tables.member_by_token(token_hash)
        if row is None or not hmac.compare_digest(row["token_hash"], token_hash) or row["class_code"] != code:
            if self.tables.class_row(code) is None:
                raise _no_class(code)
            raise ClassError(NOT_A_MEMBER)
        if row["ended"]:
            raise ClassError(ENDED)
        return row

    def _locked_member(self, locked: LockedClass, member: Member) -> Row:
        """Inside a write: the member's row (checked against the token again), the class still running."""
        if locked.row is None:
            raise _no_class(member.code)
        row = locked.member_by_token(_sha256(str(member.token)))
        if row is None or not hmac.compare_digest(row["token_hash"], _sha256(str(member.token))):
            raise ClassError(NOT_A_MEMBER)
        if locked.row["ended"]:
            raise ClassError(ENDED)
        if _expired(locked.row, self.clock()):
            raise ClassError(EXPIRED)
        return row

    def answer(self, member: Member, question_id: int, choice: int) -> None:
        """This member's answer; changeable while the question is open; a retry replaces, never adds."""
        with self.tables.locked(normalise_code(member.code)) as locked:
            row = self._locked_member(locked, member)
            question = locked.question(_as_id(question_id))
            if question is None or locked.row["question_id"] != question["id"]:
                raise ClassError("That question is no longer on the teacher's screen: your answer was not counted.")
            if question["state"] != OPEN:
                raise ClassError("The teacher has closed this question: answers can no longer be changed.")
            choices = _json(question["choices"])
            if isinstance(choice, bool) or not isinstance(choice, int) or not 0 <= choice < len(choices):
                raise ClassError(f"Pick one of the {len(choices)} choices.")
            locked.upsert_answer(question["id"], row["id"], choice, self.clock())
            locked.change()

    def my_answer(self, member: Member, question_id: int) -> int | None:
        """This member's answer to the question, or None if they have not answered."""
        row = self._member_row(normalise_code(member.code), str(member.token))
        return self.tables.answer_of(_as_id(question_id), row["id"])

    def send_sentence(self, member: Member, text: str) -> None:
        """Offer the teacher a sentence (plain text, at most MAX_SENTENCE characters, a few a minute)."""
        cleaned = clean_sentence(text)
        if not cleaned:
            raise ClassError("Type a sentence first.")
        with self.tables.locked(normalise_code(member.code)) as locked:
            row = self._locked_member(locked, member)
            now = self.clock()
            if locked.sentences_since(row["id"], now - 60) >= SENTENCES_PER_MINUTE:
                raise ClassError(f"You have sent {SENTENCES_PER_MINUTE} sentences in the last minute: wait a "
                                 "moment before sending another.")
            locked.add_sentence(row["id"], cleaned, now)

    # The teacher

    def open_class(self, lesson: str, passphrase: str, session_id: str = "") -> TeacherHandle:
        """A new class for this lesson, with a fresh code; only with the teacher's passphrase. `session_id`: the
        browser session typing it (as for join), whose wrong passphrases are limited."""
        self._check_passphrase(passphrase, session_id)
        lesson = str(lesson or "").strip()
        if not lesson:
            raise ClassError("Choose a lesson before opening a class.")
        for _ in range(20):  # a clash is one in millions: a second draw is all it ever takes
            code = _new_code()
            try:
                self.tables.create_class(code, lesson, self.clock())
            except CodeTaken:
                continue
            return TeacherHandle(self, code, _GRANTED)
        raise ClassError("Could not find a free class code; try again.")

    def teacher(self, code: str, passphrase: str, session_id: str = "") -> TeacherHandle:
        """The teacher's handle on a class already open (after the teacher's tab closed); an ended class too,
        for its CSV; an expired one too (the teacher's next action brings it back)."""
        self._check_passphrase(passphrase, session_id)
        code = normalise_code(code)
        if self.tables.class_row(code) is None:
            raise _no_class(code)
        return TeacherHandle(self, code, _GRANTED)

    def _check_passphrase(self, passphrase: str, session_id: str) -> None:
        """The server's passphrase, compared in constant time; PASSPHRASE_ATTEMPTS wrong ones per session, then a
        wait (stored, so it holds on every server of the database; a right one is refused too while waiting)."""
        secret = os.environ.get(PASSPHRASE_VARIABLE, "")
        if not secret:
            raise ClassError(f"Live classes are off on this server: the teacher sets {PASSPHRASE_VARIABLE} "
                             "(a passphrase only the teacher knows) before starting the app, then opens a class "
                             "with it.")
        session_hash, now = _sha256(f"teacher\0{session_id}"), self.clock()
        if self.tables.teacher_failures_since(session_hash, now - PASSPHRASE_WINDOW_S) >= PASSPHRASE_ATTEMPTS:
            raise ClassError(f"Too many wrong passphrases from this browser. Wait {PASSPHRASE_WINDOW_S / 60:.0f} "
                             "minutes, then type it again.")
        typed = str(passphrase or "")[:_TYPED_BOUND]
        if not hmac.compare_digest(_sha256(typed), _sha256(secret)):  # equal lengths: the time tells nothing
            self.tables.record_teacher_failure(session_hash, now, forget_before=now - PASSPHRASE_WINDOW_S)
            raise ClassError(f"That is not the teacher's passphrase. After {PASSPHRASE_ATTEMPTS} wrong tries this "
                             f"browser waits {PASSPHRASE_WINDOW_S / 60:.0f} minutes.")


def _as_id(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ClassError("That question is no longer on the teacher's screen: your answer was not counted.")
    return value


def _unique_name(locked: LockedClass, name: str) -> str:
    """`name`, or `name (2)`, `name (3)`, ... : the first no one in the class has (case does not count)."""
    if not locked.name_taken(name.casefold()):
        return name
    for number in range(2, 10_000):
        suffix = f" ({number})"
        candidate = name[: MAX_NAME - len(suffix)].rstrip() + suffix
        if not locked.name_taken(candidate.casefold()):
            return candidate
    raise ClassError("Too many students with that name: choose another.")


_GRANTED = object()  # only LiveClasses.open_class / teacher make handles


class TeacherHandle:
    """The teacher's actions on one class; only LiveClasses.open_class or .teacher (with the passphrase) give one."""

    def __init__(self, classes: LiveClasses, code: str, granted: object):
        if granted is not _GRANTED:
            raise ClassError("Only the teacher's passphrase opens the teacher's controls.")
        self._classes, self.code = classes, code

    def __repr__(self) -> str:
        return f"TeacherHandle(code={self.code!r})"

    @property
    def _tables(self) -> ClassTables:
        return self._classes.tables

    def _running(self, locked: LockedClass) -> LockedClass:
        """The class, still running; the teacher's action is noted (it keeps the code working)."""
        if locked.row is None:
            raise _no_class(self.code)
        if locked.row["ended"]:
            raise ClassError("This class has ended; open a new class to go on.")
        locked.touch_teacher(self._classes.clock())
        return locked

    def _question(self, locked: LockedClass, question_id: int) -> Row:
        question = locked.question(question_id) if isinstance(question_id, int) else None
        if question is None:
            raise ClassError("That question is not one of this class's.")
        return question

    def set_step(self, step: int) -> None:
        """Every follower moves to this step; a projected sentence and the step's question are cleared."""
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ClassError("A lesson step is a number from 0 up.")
        with self._tables.locked(self.code) as locked:
            if self._running(locked).row["step"] == step:
                return  # nothing changed: followers keep what they show
            locked.close_open_questions()
            locked.change(step=step, sentence=None, sentence_id=None, question_id=None)

    def open_question(self, kind: str, prompt: str, choices: Sequence[str], model_choice: int, explanation: str,
                      spec: dict) -> int:
        """Ask the class; any open question is closed first. Returns the question's id."""
        choices = tuple(str(choice) for choice in choices)
        if kind not in KINDS:
            raise ClassError(f"A question's kind is one of {', '.join(KINDS)}.")
        if len(choices) < 2:
            raise ClassError("A question needs at least two choices.")
        if isinstance(model_choice, bool) or not isinstance(model_choice, int) or not 0 <= model_choice < len(choices):
            raise ClassError("The model's answer must be one of the choices.")
        spec = json.loads(json.dumps(dict(spec or {})))  # only what JSON keeps; a TypeError here is a bug upstream
        with self._tables.locked(self.code) as locked:
            self._running(locked)
            locked.close_open_questions()
            question_id = locked.add_question({
                "kind": kind, "prompt": str(prompt), "choices": list(choices), "model_choice": model_choice,
                "explanation": str(explanation or ""), "spec": spec, "state": OPEN, "opened": self._classes.clock()})
            locked.change(question_id=question_id)
        return question_id

    def close_question(self, question_id: int) -> None:
        """No more answers or changes; the count stays on screen (already closed or revealed: nothing changes)."""
        with self._tables.locked(self.code) as locked:
            question = self._question(self._running(locked), question_id)
            if question["state"] == OPEN:
                locked.set_question(question["id"], state=CLOSED)
                locked.change()

    def reveal(self, question_id: int) -> None:
        """Close the question and show the class's answers next to the model's (the counts frozen now)."""
        with self._tables.locked(self.code) as locked:
            question = self._question(self._running(locked), question_id)
            if question["state"] == REVEALED:
                return
            counted = locked.answer_counts(question["id"])
            counts = [counted.get(index, 0) for index in range(len(_json(question["choices"])))]
            locked.set_question(question["id"], state=REVEALED, counts=counts)
            locked.change()

    def sentences(self, include_hidden: bool = False) -> list[SentOffer]:
        """The sentences students sent, newest first (hidden ones only if asked)."""
        return [SentOffer(id=row["id"], name=row["name"], text=row["text"], sent_at=row["sent_at"],
                          hidden=bool(row["hidden"])) for row in self._tables.sentences(self.code, include_hidden)]

    def hide_sentence(self, offer_id: int) -> None:
        """Hide a sentence from the teacher's list (and from the projector, if it is there)."""
        with self._tables.locked(self.code) as locked:
            offer = self._offer(self._running(locked), offer_id)
            locked.hide_sentence(offer["id"])
            if locked.row["sentence_id"] == offer["id"]:
                locked.change(sentence=None, sentence_id=None)

    def project_sentence(self, offer_id: int) -> None:
        """Put a student's sentence on the projector: the current step's sentence for everyone following."""
        with self._tables.locked(self.code) as locked:
            offer = self._offer(self._running(locked), offer_id)
            if offer["hidden"]:
                raise ClassError("That sentence is hidden; it cannot go on the projector.")
            locked.change(sentence=offer["text"], sentence_id=offer["id"])

    def _offer(self, locked: LockedClass, offer_id: int) -> Row:
        offer = locked.sentence(offer_id) if isinstance(offer_id, int) and not isinstance(offer_id, bool) else None
        if offer is None:
            raise ClassError("That sentence is not one of this class's.")
        return offer

    def answers_csv(self) -> str:
        """Every question and every member's answer (blank if none), one row each, as CSV text."""
        questions, members = self._tables.questions(self.code), self._tables.members(self.code)
        answers = {(row["question_id"], row["member_id"]): row["choice"] for row in self._tables.answer_rows(self.code)}
        rows = []
        for number, question in enumerate(questions, start=1):
            choices = _json(question["choices"])
            model = choices[question["model_choice"]]
            for member in members:
                chosen = answers.get((question["id"], member["id"]))
                rows.append({"question": number, "kind": question["kind"], "prompt": question["prompt"],
                             "student": member["name"], "answer": "" if chosen is None else choices[chosen],
                             "model's answer": model,
                             "agrees with the model": "" if chosen is None else ("yes" if chosen == question["model_choice"] else "no")})
        columns = ["question", "kind", "prompt", "student", "answer", "model's answer", "agrees with the model"]
        table = pd.DataFrame(rows, columns=columns).map(_spreadsheet_safe)
        return table.to_csv(index=False)

    def end(self) -> None:
        """End the class for everyone: joins, answers and sentences are refused from now on (ending twice is fine)."""
        with self._tables.locked(self.code) as locked:
            if locked.row is None:
                raise _no_class(self.code)
            if locked.row["ended"]:
                return
            locked.close_open_questions()
            locked.change(ended=1, ended_at=self._classes.clock())
