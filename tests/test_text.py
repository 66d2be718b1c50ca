"""The offline public-domain text used by the character-level language model."""

import pytest

from nnbook.text import (SOURCES, load_text, strip_gutenberg_boilerplate, train_val_split,
                         train_val_test_split)


def test_flatland_loads_offline_and_is_the_book():
    text = load_text("flatland")
    assert len(text) > 150_000
    assert text.startswith("Flatland")
    assert "Spaceland" in text and "the Sphere" in text
    # the Project Gutenberg header and licence are gone
    assert "Project Gutenberg" not in text and "*** START" not in text
    assert "\n\n\n" not in text and "\r" not in text
    assert len(set(text)) < 100  # a small character vocabulary


def test_raw_text_keeps_the_boilerplate():
    raw = load_text(strip_boilerplate=False, collapse_blank_lines=False)
    assert "Project Gutenberg" in raw
    assert len(raw) > len(load_text())


def test_sources_are_public_domain_books():
    info = SOURCES["flatland"]
    assert info["year"] < 1929 and info["gutenberg_id"] == 97


def test_strip_boilerplate():
    doc = ("header\r\n*** START OF THIS PROJECT GUTENBERG EBOOK X ***\r\n\r\nBody line.\r\n"
           "\r\n*** END OF THIS PROJECT GUTENBERG EBOOK X ***\r\nlicence")
    assert strip_gutenberg_boilerplate(doc) == "Body line.\n"
    assert strip_gutenberg_boilerplate("no markers\n") == "no markers\n"
    with pytest.raises(TypeError, match="str"):
        strip_gutenberg_boilerplate(b"bytes")


def test_train_val_split_is_contiguous():
    train, val = train_val_split("abcdefghij", 0.2)
    assert (train, val) == ("abcdefgh", "ij")
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split("abc", 1.5)
    with pytest.raises(ValueError, match="too short"):
        train_val_split("a", 0.1)


def test_unknown_text_name():
    with pytest.raises(ValueError, match="flatland"):
        load_text("moby-dick")


def test_three_way_split_is_contiguous_and_in_order():
    text = "".join(chr(97 + i % 26) for i in range(1000))
    train, val, test = train_val_test_split(text, val_fraction=0.1, test_fraction=0.2)
    assert train + val + test == text
    assert (len(train), len(val), len(test)) == (700, 100, 200)


@pytest.mark.parametrize("kwargs, match", [
    (dict(val_fraction=0.0), "val_fraction"),
    (dict(test_fraction=1.5), "test_fraction"),
    (dict(val_fraction=0.5, test_fraction=0.5), "below 1"),
])
def test_three_way_split_rejects_bad_fractions(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train_val_test_split("abcdefghij" * 10, **kwargs)


def test_three_way_split_rejects_non_text_and_tiny_text():
    with pytest.raises(TypeError, match="text must be a str"):
        train_val_test_split(b"bytes")
    with pytest.raises(ValueError, match="too short"):
        train_val_test_split("ab")
