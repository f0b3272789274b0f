from runner.item_diff import diff_items, same_value, unchanged_condition

KEY = ["pk"]


def test_unchanged_item_needs_no_write():
    item = {"pk": {"S": "1"}, "tags": {"SS": ["a", "b"]}}
    assert diff_items(item, {"pk": {"S": "1"}, "tags": {"SS": ["b", "a"]}}, KEY) is None


def test_changed_added_and_removed_attributes_are_conditioned_on_old_values():
    old = {"pk": {"S": "1"}, "name": {"S": "Ada Lovelace"}, "legacy": {"N": "1"}}
    new = {"pk": {"S": "1"}, "name": {"S": "Ada"}, "last": {"S": "Lovelace"}}
    write = diff_items(old, new, KEY)
    assert write is not None
    assert write.names == {"#a0": "last", "#a1": "legacy", "#a2": "name", "#a3": "pk"}
    assert write.update_expression == "SET #a0 = :n0, #a2 = :n3 REMOVE #a1"
    assert write.condition_expression == (
        "attribute_exists(#a3) AND attribute_not_exists(#a0) AND #a1 = :o1 AND #a2 = :o2"
    )
    assert write.values == {
        ":n0": {"S": "Lovelace"},
        ":o1": {"N": "1"},
        ":o2": {"S": "Ada Lovelace"},
        ":n3": {"S": "Ada"},
    }


def test_condition_names_every_changed_attribute():
    old = {"pk": {"S": "1"}, "a": {"N": "1"}, "b": {"N": "2"}}
    new = {"pk": {"S": "1"}, "a": {"N": "10"}, "b": {"N": "2"}}
    write = diff_items(old, new, KEY)
    assert write is not None
    assert write.update_expression == "SET #a0 = :n1"
    assert write.condition_expression == "attribute_exists(#a1) AND #a0 = :o0"
    assert write.names == {"#a0": "a", "#a1": "pk"}
    assert write.values == {":o0": {"N": "1"}, ":n1": {"N": "10"}}


def test_values_compare_by_content():
    assert same_value({"B": b"\x00\x01"}, {"B": bytearray(b"\x00\x01")})
    assert same_value({"NS": ["1", "2"]}, {"NS": ["2", "1"]})
    assert not same_value({"L": [{"N": "1"}, {"N": "2"}]}, {"L": [{"N": "2"}, {"N": "1"}]})
    assert not same_value({"N": "1"}, {"S": "1"})
    assert same_value({"M": {"a": {"BOOL": True}}}, {"M": {"a": {"BOOL": True}}})


def test_unchanged_condition_covers_every_attribute():
    condition, names, values = unchanged_condition({"pk": {"S": "1"}, "a": {"N": "5"}}, KEY)
    assert condition == "#a0 = :o0 AND attribute_exists(#a1)"
    assert names == {"#a0": "a", "#a1": "pk"}
    assert values == {":o0": {"N": "5"}}
