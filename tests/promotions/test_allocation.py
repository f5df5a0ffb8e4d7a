"""How a discount is shared among the lines (ORD-8 rule 5): exact, never more than a line."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from promotions.engine import PricedLine, allocate

D = Decimal


def test_shares_are_proportional_and_the_left_over_cents_go_to_the_largest_lines():
    lines = [PricedLine("a", D("10.00")), PricedLine("b", D("20.00")), PricedLine("c", D("20.00"))]
    # 10.00 × 10/50 = 2.00, 4.00, 4.00: exact
    assert allocate(D("10.00"), lines) == {"a": D("2.00"), "b": D("4.00"), "c": D("4.00")}
    # 0.05: 0.01, 0.02, 0.02 exactly
    assert allocate(D("0.05"), lines) == {"a": D("0.01"), "b": D("0.02"), "c": D("0.02")}
    # 0.03: exact 0.6, 1.2, 1.2 cents; floors 0, 1, 1; one cent left → first largest line (b)
    assert allocate(D("0.03"), lines) == {"a": D("0.00"), "b": D("0.02"), "c": D("0.01")}


def test_a_line_is_never_given_more_than_its_amount():
    lines = [PricedLine(1, D("0.01")), PricedLine(2, D("0.01")), PricedLine(3, D("0.01"))]
    assert allocate(D("0.03"), lines) == {1: D("0.01"), 2: D("0.01"), 3: D("0.01")}


@st.composite
def carts(draw):
    cents = draw(st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=30))
    total = draw(st.integers(min_value=0, max_value=sum(cents)))
    lines = [PricedLine(i, D(c).scaleb(-2)) for i, c in enumerate(cents)]
    return D(total).scaleb(-2), lines


@given(carts())
def test_shares_sum_exactly_to_the_total_and_never_exceed_a_line(cart):
    total, lines = cart
    shares = allocate(total, lines)
    assert set(shares) == {line.key for line in lines}
    assert sum(shares.values()) == total
    for line in lines:
        share = shares[line.key]
        assert D("0") <= share <= line.gross
        assert share == share.quantize(D("0.01"))
        # proportional to the cent: never more than one cent away from the exact share
        goods = sum(item.gross for item in lines)
        if goods:
            exact = total * line.gross / goods
            assert abs(share - exact) <= D("0.01")
