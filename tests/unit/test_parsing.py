from bot.support.parsing import extract_email, extract_order_number, has_digits


def test_order_numbers_in_the_ways_customers_write_them():
    assert extract_order_number("104233") == "104233"
    assert extract_order_number("where is order #104233?") == "104233"
    assert extract_order_number("order no. 104 233 please") == "104233"
    assert extract_order_number("it's 104233, I think. yes 104233") == "104233"


def test_no_order_number_when_missing_or_ambiguous():
    assert extract_order_number(None) is None
    assert extract_order_number("") is None
    assert extract_order_number("my order from last week") is None
    assert extract_order_number("12345") is None
    assert extract_order_number("1042331") is None
    assert extract_order_number("either 104233 or 104234") is None


def test_email_and_digits():
    assert extract_email("I'm Maria.Lopez@Example.com thanks") == "maria.lopez@example.com"
    assert extract_email("no email here") is None
    assert has_digits("abc 1") and not has_digits("abc")
