"""The app layer: the ``omnitron`` key of an app's ``config/default.json``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ._base import BucketName, Model, Name, Port, Size
from .service import Command, ServiceEntry


class DatabaseRequest(Model):
    """``"database": {...}``: which database the app needs."""

    dedicated: bool = False
    """Provision a Postgres (or MySQL) for this app alone."""
    dialect: Annotated[str, Field(min_length=1)] = "postgres"
    name: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=63)] | None = None
    """Database name; the app's name (``-`` turned into ``_``) when absent."""
    service: Name | None = None
    """Which shared service to use when the ecosystem declares more than one."""
    extensions: list[str] = []


class RedisRequest(Model):
    """``"redis": {...}``: a DB index on the shared Redis, or a dedicated Redis."""

    dedicated: bool = False
    service: Name | None = None


class S3Request(Model):
    """``"s3": {...}``: a bucket on the shared object store."""

    bucket: BucketName | None = None
    """Bucket name; ``<app>`` when absent."""
    quota: Size | None = None
    """Most bytes the bucket may hold (``10gb``); none when absent (or the service's ``quota``)."""
    public: bool = False
    """Buckets are private unless this says otherwise; ``true`` allows anonymous read, never write."""
    aws_env: bool = False
    """Also inject ``AWS_ENDPOINT_URL_S3``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_DEFAULT_REGION``."""
    dedicated: bool = False
    service: Name | None = None


class AppConfig(Model):
    """``OmnitronAppConfig``: what one app needs."""

    database: bool | DatabaseRequest = False
    redis: bool | RedisRequest = False
    s3: bool | S3Request = False
    services: dict[Name, bool] = {}
    """Services this app uses (their env is injected): the ecosystem's or another app's ``infrastructure``. A name
    none declares gives the app nothing (a warning says so)."""
    infrastructure: dict[Name, ServiceEntry] = {}
    """Custom services of this app, merged with the ecosystem's."""
    env: dict[str, str] = {}
    """Extra env of the app; wins over injected values. ``${host}``/``${port:NAME}`` are the app's own
    (127.0.0.1, its declared ``ports``); plugin functions such as ``${onion:shop}`` work too."""
    ports: dict[Name, Port] = {}
    """Ports the app listens on, by name (``{"http": 3000}``); the ecosystem's app entry may override them."""
    migrate: Command | None = None
    """Command that migrates the app's database (``omnitron infra migrate``)."""


ShorthandKind = Literal["database", "redis", "s3"]
