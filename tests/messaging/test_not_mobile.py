"""`not_mobile`, the query form of what `textable_number` refuses: the two never disagree
about a UK number, so a session can show "cannot be texted" before anything is sent."""

import pytest
from django.core.exceptions import ValidationError

from messaging.models import Message
from messaging.services import not_mobile, textable_number

pytestmark = pytest.mark.django_db

UK_NUMBERS = [
    "+441236123456",  # Coatbridge
    "+441698123456",  # Hamilton
    "+442071234567",  # London
    "+443001234567",  # 03, non-geographic
    "+448001234567",  # freephone
    "+448451234567",
    "+449091234567",  # premium rate
    "+447012345678",  # personal number
    "+447640123456",  # pager
    "+447624123456",  # Isle of Man mobile
    "+447700900123",  # Ofcom's drama range
    "+447400123456",
    "+447511123456",
    "+447781234567",  # Guernsey
    "+447797123456",  # Jersey
    "+447911123456",
]


def refused(number):
    try:
        textable_number(number)
    except ValidationError:
        return True
    return False


def test_the_query_refuses_exactly_the_uk_numbers_sending_refuses():
    for number in UK_NUMBERS:
        Message.objects.create(
            direction=Message.Direction.OUTBOUND, to_number=number, body="x", status="queued"
        )

    matched = set(
        Message.objects.filter(not_mobile("to_number")).values_list("to_number", flat=True)
    )

    assert matched == {number for number in UK_NUMBERS if refused(number)}
    assert matched == {
        "+441236123456",
        "+441698123456",
        "+442071234567",
        "+443001234567",
        "+448001234567",
        "+448451234567",
        "+449091234567",
        "+447012345678",
        "+447640123456",
    }
