"""problems.summarise: many problems in one readable line."""

from lto_archive.problems import summarise


def test_groups_by_reason_in_order_and_names_a_few():
    items = [(f"card/c{i}.mov", "no room left on this cartridge: not written") for i in range(2, 7)]
    items.insert(1, ("card/x.mov", "changed while read"))
    text = summarise(items)
    assert text == ("5 × no room left on this cartridge: not written (card/c2.mov, card/c3.mov, card/c4.mov "
                    "and 2 more); 1 × changed while read (card/x.mov)")
    assert text.count("no room") == 1


def test_empty_and_exact_limits():
    assert summarise([]) == ""
    assert summarise([("a", "r"), ("b", "r"), ("c", "r")]) == "3 × r (a, b, c)"
