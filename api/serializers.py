"""What every API serializer shares: unknown fields refused, writes through services.

DRF ignores fields it does not know; PeerPath refuses them, so a misspelt field name is an
error the caller sees, never a change that silently did not happen.
"""

from django.db import models
from django.db.models import Prefetch
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS

from api import fields


class StrictSerializerMixin:
    # Refuse unknown fields, and fields that are changed by an action of their own.
    # `refused_fields` maps a field name to the message that says how to change it instead.

    refused_fields = {}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["Send a JSON object of field names and values."]}
            )
        writable = {name for name, field in self.fields.items() if not field.read_only}
        readable = set(self.fields)
        errors = {}
        for name in data:
            if name in self.refused_fields:
                errors[name] = [self.refused_fields[name]]
            elif name not in readable:
                errors[name] = [
                    f"Unknown field. Fields you can send: {', '.join(sorted(writable))}."
                ]
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


PORTABLE_INTEGER_MAX = {
    "SmallIntegerField": 32767,
    "PositiveSmallIntegerField": 32767,
    "IntegerField": 2147483647,
    "PositiveIntegerField": 2147483647,
}


class StrictSerializer(StrictSerializerMixin, serializers.Serializer):
    pass


class ModelSerializer(serializers.ModelSerializer):
    """A read-only model serializer writing moments as every answer does."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: fields.DateTimeField,
    }
    serializer_choice_field = fields.ChoiceField


class StrictModelSerializer(StrictSerializerMixin, ModelSerializer):
    # A model serializer whose `create` and `update` call the owning app's services.
    # Subclasses set `create_with` and `update_with`: service functions taking keyword
    # arguments; `update_with` gets the record as `instance_argument`. (A comment, not a
    # docstring: the schema shows a serializer's docstring as its description.)

    create_with = None
    update_with = None
    instance_argument = "instance"

    serializer_field_mapping = {
        **ModelSerializer.serializer_field_mapping,
        models.AutoField: fields.IntegerField,
        models.BigAutoField: fields.IntegerField,
        models.BooleanField: fields.BooleanField,
        models.CharField: fields.CharField,
        models.TextField: fields.CharField,
        models.SlugField: fields.SlugField,
        models.EmailField: fields.EmailField,
        models.DecimalField: fields.DecimalField,
        models.FloatField: fields.FloatField,
        models.IntegerField: fields.IntegerField,
        models.PositiveIntegerField: fields.IntegerField,
        models.PositiveSmallIntegerField: fields.IntegerField,
        models.SmallIntegerField: fields.IntegerField,
    }

    def build_standard_field(self, field_name, model_field):
        # Django bounds integer fields by the database in use (SQLite allows more than
        # PostgreSQL); the contract uses the portable bounds, so it is the same on both.
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        portable = PORTABLE_INTEGER_MAX.get(model_field.get_internal_type())
        if portable is not None and "max_value" in kwargs:
            kwargs["max_value"] = min(kwargs["max_value"], portable)
        return field_class, kwargs

    def create(self, validated_data):
        return type(self).create_with(**self.context.get("create_extra", {}), **validated_data)

    def update(self, instance, validated_data):
        return type(self).update_with(**{self.instance_argument: instance}, **validated_data)


def prefetch_codes(*names):
    """Prefetches for many-to-many fields shown as codes: each a plain list on the record
    (`prefetched_<name>`), which reads far faster than a related manager for every row."""
    return [Prefetch(name, to_attr=f"prefetched_{name}") for name in names]


class PrefetchedManyRelatedField(serializers.ManyRelatedField):
    def get_attribute(self, instance):
        listed = getattr(instance, f"prefetched_{self.source}", None)
        return listed if listed is not None else super().get_attribute(instance)


class CodeRelatedField(serializers.SlugRelatedField):
    """A related record named by its code or slug, matched without regard to case."""

    @classmethod
    def many_init(cls, *args, **kwargs):
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        for key in kwargs:
            if key in MANY_RELATION_KWARGS:
                list_kwargs[key] = kwargs[key]
        return PrefetchedManyRelatedField(**list_kwargs)

    default_error_messages = {
        "does_not_exist": "There is no {model} with the {slug_name} “{value}”.",
        "invalid": "Give the {slug_name} as text.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", slug_name=self.slug_field)
        found = self.get_queryset().filter(**{f"{self.slug_field}__iexact": data.strip()}).first()
        if found is None:
            model = self.get_queryset().model._meta.verbose_name
            self.fail("does_not_exist", model=model, slug_name=self.slug_field, value=data)
        return found
