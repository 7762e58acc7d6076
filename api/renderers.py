"""JSON answers, with moments written as every serializer field writes them."""

import datetime

from django.utils import timezone
from rest_framework import renderers
from rest_framework.utils import encoders

from api.fields import moment


class JSONEncoder(encoders.JSONEncoder):
    def default(self, obj):
        if isinstance(obj, datetime.datetime) and timezone.is_aware(obj):
            return moment(obj)
        return super().default(obj)


class JSONRenderer(renderers.JSONRenderer):
    encoder_class = JSONEncoder
