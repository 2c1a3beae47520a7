"""The answers a person has given so far to one cycle's query, saved atomically after every answer.

``<run>/annotate/answers_cycle_XX.json`` holds ``{"cycle": c, "query": [sample, ...], "submitted": bool,
"labels": {"<sample>": ANSWER}}`` — the ``labels`` object is the answer-file format of ``vatl run --oracle
person`` (:data:`vatl.atl.oracle.ANSWER_FORMAT`), in the order the answers were given (the last one is what
undo takes back). A restarted server reloads it, so closing the browser or killing the server loses no
answer. The file is data: it is checked field by field, and each answer again by the session's checks.
The drafts of finished cycles are kept as the record of what the person answered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from vatl.atl.answers import sample_key
from vatl.atl.run_store import read_json_file
from vatl.fileio import write_json

DRAFT_FOLDER = "annotate"


def draft_path(run_dir: Path, cycle: int) -> Path:
    return Path(run_dir) / DRAFT_FOLDER / f"answers_cycle_{cycle:02d}.json"


class AnswerDraft:
    """The in-progress answers to the query ``query`` (sample indices) of cycle ``cycle``.

    ``answers`` maps sample -> the answer as given (rows of [x, y, v] or a word), in answer order. The
    caller validates an answer before :meth:`put`; every change is written to :attr:`path` at once.
    """

    def __init__(self, run_dir: Path, cycle: int, query: list[int]) -> None:
        self.path = draft_path(run_dir, cycle)
        self.cycle = int(cycle)
        self.query = [int(i) for i in query]
        self.answers: dict[int, Any] = {}
        self.submitted = False

    @classmethod
    def open(cls, run_dir: Path, cycle: int, query: list[int],
             check: Callable[[Mapping[int, Any]], None]) -> AnswerDraft:
        """The saved draft of this query, or an empty one. ``check(answers)`` validates the saved answers
        (raising :class:`~vatl.atl.answers.AnswerError`); a file that does not fit the query raises a
        ValueError naming it (it is never overwritten or dropped)."""
        draft = cls(run_dir, cycle, query)
        if not draft.path.exists():
            return draft
        doc = read_json_file(draft.path, "draft of answers")
        problem = _draft_problem(doc, draft.cycle, draft.query)
        if problem:
            raise ValueError(f"{draft.path}: {problem}; move the file away to answer this query afresh")
        answers = {sample_key(k): v for k, v in doc["labels"].items()}
        try:
            check(answers)
        except ValueError as exc:
            raise ValueError(f"{draft.path}: {exc}") from None
        draft.answers = answers
        draft.submitted = bool(doc.get("submitted", False))
        return draft

    def put(self, sample: int, answer: Any) -> None:
        """Record (or replace) the answer to ``sample``; it becomes the last one given."""
        self.answers.pop(int(sample), None)
        self.answers[int(sample)] = answer
        self.submitted = False
        self.save()

    def take_back(self) -> tuple[int, Any] | None:
        """Remove the last answer given; returns (sample, answer), or None when there is none."""
        if not self.answers:
            return None
        sample = next(reversed(self.answers))
        answer = self.answers.pop(sample)
        self.submitted = False
        self.save()
        return sample, answer

    def mark_submitted(self) -> None:
        """Record that the person submitted the query (a restarted server then takes the answers at once)."""
        self.submitted = True
        self.save()

    def save(self) -> None:
        write_json(self.path, {"cycle": self.cycle, "query": self.query, "submitted": self.submitted,
                               "labels": {str(i): a for i, a in self.answers.items()}})


def _draft_problem(doc: Any, cycle: int, query: list[int]) -> str | None:
    """What makes ``doc`` unusable as the draft of (cycle, query), or None."""
    if not isinstance(doc, dict) or not isinstance(doc.get("labels"), dict):
        return "expected an object with 'cycle', 'query' and a 'labels' object"
    if doc.get("cycle") != cycle:
        return f"holds answers of cycle {doc.get('cycle')!r}, not of cycle {cycle}"
    if doc.get("query") != query:
        return f"holds answers to another query of cycle {cycle} (the query now: {query[:8]})"
    if not isinstance(doc.get("submitted", False), bool):
        return "'submitted' must be true or false"
    bad = [k for k in doc["labels"] if sample_key(k) is None]
    if bad:
        return f"labels[{bad[0]!r}]: the key must be a sample index"
    return None
