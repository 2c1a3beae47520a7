import json

import pytest

from vatl.annotate.drafts import AnswerDraft, draft_path
from vatl.atl.answers import AnswerError
from vatl.atl.oracle import read_answer_file


def _accept_all(answers):
    return None


def test_every_answer_is_on_disk_at_once_and_a_reopened_draft_has_them_in_order(tmp_path):
    draft = AnswerDraft(tmp_path, 3, [7, 2, 9])
    draft.put(7, "accept")
    draft.put(2, [[1.0, 2.0, 2.0]])
    assert json.loads(draft_path(tmp_path, 3).read_text())["labels"] == {"7": "accept", "2": [[1.0, 2.0, 2.0]]}
    draft.put(7, "reject")  # answering again replaces the answer and makes it the last one
    again = AnswerDraft.open(tmp_path, 3, [7, 2, 9], check=_accept_all)
    assert list(again.answers.items()) == [(2, [[1.0, 2.0, 2.0]]), (7, "reject")]
    assert again.take_back() == (7, "reject")
    assert AnswerDraft.open(tmp_path, 3, [7, 2, 9], check=_accept_all).answers == {2: [[1.0, 2.0, 2.0]]}
    # the file's labels are the answer-file format of `vatl run --oracle person`
    assert read_answer_file(draft.path) == {2: [[1.0, 2.0, 2.0]]}


def test_take_back_with_nothing_given_returns_none(tmp_path):
    assert AnswerDraft(tmp_path, 0, [1]).take_back() is None


def test_submitted_is_remembered_until_an_answer_changes(tmp_path):
    draft = AnswerDraft(tmp_path, 0, [1, 2])
    draft.put(1, "skip")
    draft.mark_submitted()
    assert AnswerDraft.open(tmp_path, 0, [1, 2], check=_accept_all).submitted
    draft.take_back()
    assert not AnswerDraft.open(tmp_path, 0, [1, 2], check=_accept_all).submitted


def test_no_file_gives_an_empty_draft(tmp_path):
    draft = AnswerDraft.open(tmp_path, 5, [1, 2], check=_accept_all)
    assert draft.answers == {} and not draft.submitted and not draft.path.exists()


@pytest.mark.parametrize("doc, needle", [
    ({"cycle": 1, "query": [1, 2], "labels": {}}, "cycle 1, not of cycle 0"),
    ({"cycle": 0, "query": [1, 3], "labels": {}}, "another query of cycle 0"),
    ({"cycle": 0, "query": [1, 2], "labels": {"x": "skip"}}, "must be a sample index"),
    ({"cycle": 0, "query": [1, 2], "labels": []}, "'labels' object"),
    ({"cycle": 0, "query": [1, 2], "labels": {}, "submitted": "yes"}, "'submitted'"),
])
def test_a_draft_that_does_not_fit_the_query_is_refused_and_kept(tmp_path, doc, needle):
    path = draft_path(tmp_path, 0)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=needle) as info:
        AnswerDraft.open(tmp_path, 0, [1, 2], check=_accept_all)
    assert str(path) in str(info.value)
    assert json.loads(path.read_text()) == doc  # never overwritten or dropped


def test_saved_answers_go_through_the_check_again(tmp_path):
    AnswerDraft(tmp_path, 0, [1, 2]).put(1, "maybe")

    def check(answers):
        raise AnswerError([f"sample {i}: unknown answer {a!r}" for i, a in answers.items()])

    with pytest.raises(ValueError, match="unknown answer 'maybe'") as info:
        AnswerDraft.open(tmp_path, 0, [1, 2], check=check)
    assert "answers_cycle_00.json" in str(info.value)


def test_a_corrupt_draft_names_the_file(tmp_path):
    path = draft_path(tmp_path, 0)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="corrupt draft of answers"):
        AnswerDraft.open(tmp_path, 0, [1], check=_accept_all)
