"""The report's HTML helpers escape text and embed images."""

from __future__ import annotations

import base64

from vatl.explain import html as H


def test_text_and_tables_are_escaped_and_numbers_formatted():
    assert H.text('<a href="x">') == "&lt;a href=&quot;x&quot;&gt;"
    table = H.table(["<b>"], [[float("nan")], [None], [0.12345], [12345.6], [True], ["<i>"]])
    assert "<th>&lt;b&gt;</th>" in table and table.count("<td>–</td>") == 2
    assert "<td>0.123</td>" in table and "<td>1.23e+04</td>" in table and "<td>yes</td>" in table
    assert "<td>&lt;i&gt;</td>" in table


def test_images_are_embedded_and_the_page_is_one_document():
    png = b"\x89PNG fake"
    tag = H.image(png, 'a "b"')
    assert base64.b64encode(png).decode() in tag and 'alt="a &quot;b&quot;"' in tag
    page = H.page("<t>", [tag])
    assert page.startswith("<!doctype html>") and "<title>&lt;t&gt;</title>" in page and tag in page
